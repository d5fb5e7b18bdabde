#include "peft/finetune.h"

#include "tensor/error.h"

namespace petl::peft {

int64_t apply_full_finetune(const nn::Module& model) {
  model.set_trainable(true);
  return model.parameter_count(true);
}

std::vector<std::string> apply_finetune_top_k(const nn::Gpt2LMHead& model, int64_t k, bool with_embedding) {
  const int64_t L = model.config().n_layer;
  PETL_CHECK(k >= 1 && k <= L, "FT-top-k: k must be in [1, ", L, "] (the number of GPT-2 blocks), got ", k);
  std::vector<std::string> prefixes = {"transformer.ln_f."};
  for (int64_t i = L - k; i < L; ++i) prefixes.push_back("transformer.h." + std::to_string(i) + ".");
  if (with_embedding) prefixes.push_back("transformer.wte.");
  model.set_trainable(false);
  std::vector<std::string> names;
  for (auto [name, p] : model.named_parameters())
    for (const auto& prefix : prefixes)
      if (name.starts_with(prefix)) {
        p.set_requires_grad(true);
        names.push_back(name);
        break;
      }
  return names;
}

}  // namespace petl::peft

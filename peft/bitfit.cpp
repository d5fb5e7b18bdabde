#include "peft/bitfit.h"

namespace petl::peft {

std::vector<std::string> apply_bitfit(const nn::Module& model) {
  model.set_trainable(false);
  std::vector<std::string> names;
  for (auto [name, p] : model.named_parameters()) {
    const bool is_bias = name.find("bias") != std::string::npos;
    if (!is_bias || name == "final_logits_bias") continue;  // a constant buffer in transformers' BART
    p.set_requires_grad(true);
    names.push_back(name);
  }
  return names;
}

}  // namespace petl::peft

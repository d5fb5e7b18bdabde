// BitFit and the fine-tuning baselines (peft/bitfit.h, peft/finetune.h): which tensors train, their
// counts (PEFT.md §1, §10), and that gradients reach exactly those.
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/bitfit.h"
#include "peft/finetune.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {
// GPT-2 small / medium widths and depths; the bias count does not depend on the vocabulary or the
// number of positions, so those are kept tiny to build the model in milliseconds.
Gpt2Config gpt2_shape(int64_t d, int64_t L, int64_t heads) {
  Gpt2Config c;
  c.n_embd = d;
  c.n_layer = L;
  c.n_head = heads;
  c.vocab_size = 8;
  c.n_positions = 8;
  c.bos_token_id = c.eos_token_id = 7;
  return c;
}
}  // namespace

TEST_CASE("bitfit: 11·d·L + d trainable biases on GPT-2 small and medium (PEFT.md §10)") {
  // Counted from the modules at the real width: models with 1 and 2 blocks give the biases of one
  // block (their difference) and of the rest (ln_f); the full depth is then per_block * L + rest
  // (building all 24 medium blocks would take half a minute on a shared machine).
  struct Case {
    int64_t d, L, heads, expected;
  };
  for (const Case s : {Case{768, 12, 12, 102144}, Case{1024, 24, 16, 271360}}) {
    int64_t trainable[2] = {0, 0};
    for (int64_t layers : {1, 2}) {
      Gpt2LMHead model(gpt2_shape(s.d, layers, s.heads), 1);
      const std::vector<std::string> names = apply_bitfit(model);
      CHECK(int64_t(names.size()) == 6 * layers + 1);
      trainable[layers - 1] = model.parameter_count(true);
      for (const auto& [name, p] : model.named_parameters()) {
        INFO(name);
        CHECK(p.requires_grad() == name.ends_with(".bias"));
        CHECK(!name.ends_with(".attn.bias"));  // the causal-mask buffer is no parameter (PEFT.md §17.8)
      }
    }
    const int64_t per_block = trainable[1] - trainable[0], rest = trainable[0] - per_block;
    CHECK(per_block == 11 * s.d);
    CHECK(rest == s.d);
    CHECK(per_block * s.L + rest == s.expected);
  }
}

TEST_CASE("bitfit: gradients reach exactly the biases of the fixture GPT-2, and BART keeps final_logits_bias frozen") {
  auto model = load_gpt2("tests/fixtures/gpt2/model");
  model->train(false);
  apply_bitfit(*model);
  const Tensor ids = from_vector(std::vector<int64_t>{1, 5, 9, 2, 7, 3, 8, 4}, {2, 4});
  backward(model->loss(model->forward(ids), ids));
  for (const auto& [name, p] : model->named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined() == name.ends_with(".bias"));
  }
  BartConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.encoder_layers = c.decoder_layers = 1;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = c.decoder_ffn_dim = 32;
  c.max_position_embeddings = 16;
  BartForConditionalGeneration bart(c, 2);
  const std::vector<std::string> names = apply_bitfit(bart);
  CHECK(std::find(names.begin(), names.end(), "final_logits_bias") == names.end());
  for (const auto& name : names) CHECK(name.ends_with(".bias"));
  CHECK(!names.empty());
}

TEST_CASE("finetune: full FT trains every parameter, and FT-top-k trains the last k blocks, ln_f and wte") {
  Gpt2LMHead model(gpt2_shape(64, 24, 4), 1);
  CHECK(apply_full_finetune(model) == model.parameter_count());
  const std::vector<std::string> top2 = apply_finetune_top_k(model, 2);
  int64_t expected = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    const bool trains = name.starts_with("transformer.h.22.") || name.starts_with("transformer.h.23.") ||
                        name.starts_with("transformer.ln_f.") || name == "transformer.wte.weight";
    INFO(name);
    CHECK(p.requires_grad() == trains);
    if (trains) expected += p.numel();
  }
  CHECK(model.parameter_count(true) == expected);
  CHECK(top2.size() == 2 * 12 + 2 + 1);  // 12 tensors per block, ln_f weight and bias, wte
  const std::vector<std::string> top1 = apply_finetune_top_k(model, 1, false);
  CHECK(top1.size() == 12 + 2);
  CHECK_THROWS_WITH_AS(apply_finetune_top_k(model, 25), doctest::Contains("k must be in [1, 24]"), Error);
}

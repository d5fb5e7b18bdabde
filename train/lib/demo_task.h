// The embedded default job of `train` (until GPT-2 and BART land): a one-block causal transformer
// learns generated arithmetic sequences x_{t+1} = (x_t + k) mod V, with a step k drawn per
// sequence, so predicting the next token requires attending to the previous ones. Needs no data
// files; every op of the engine (embedding, layer norm, fused attention, GELU MLP, cross-entropy,
// AdamW) is on the path.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "nn/layers.h"

namespace petl::train {

struct DemoConfig {
  int64_t vocab = 16, seq_len = 16, dim = 32, heads = 2, batch = 16;
  int64_t steps = 300;
  double lr = 3e-3;
  uint64_t seed = 0;
};

// [batch, seq_len] inputs and targets (the next token; the first position's target is ignored,
// since the step k cannot be known from one token).
struct DemoBatch {
  Tensor inputs, targets;
};
DemoBatch make_demo_batch(const DemoConfig& cfg, Generator& gen);

class TinyTransformer : public nn::Module {
 public:
  explicit TinyTransformer(const DemoConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& ids) const;  // [B, T] -> logits [B, T, V]

 private:
  DemoConfig cfg_;
  std::shared_ptr<nn::Embedding> wte_, wpe_;
  std::shared_ptr<nn::LayerNorm> ln_1_, ln_2_, ln_f_;
  std::shared_ptr<nn::Linear> c_attn_, c_proj_, c_fc_, mlp_proj_, head_;
};

struct DemoResult {
  double first_loss = 0, last_loss = 0;
  double seconds = 0;
};
// Trains for cfg.steps, calling `log(step, loss)` every log_every steps. A loss that becomes inf or
// NaN is a petl::Error naming the step.
DemoResult run_demo(const DemoConfig& cfg, int64_t log_every, const std::function<void(int64_t, double)>& log);

}  // namespace petl::train

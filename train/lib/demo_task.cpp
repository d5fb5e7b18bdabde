#include "train/lib/demo_task.h"

#include <chrono>
#include <cmath>

#include "nn/adamw.h"
#include "tensor/kernels.h"

namespace petl::train {

DemoBatch make_demo_batch(const DemoConfig& cfg, Generator& gen) {
  const int64_t B = cfg.batch, T = cfg.seq_len, V = cfg.vocab;
  Tensor draws = uniform({B, 2}, 0.0, 1.0, DType::F64, Device::cpu(), gen);
  std::vector<int64_t> inputs(size_t(B * T)), targets(size_t(B * T));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t start = int64_t(draws.at({b, 0}) * double(V)) % V;
    const int64_t step = 1 + int64_t(draws.at({b, 1}) * 4.0) % 4;  // k in 1..4
    for (int64_t t = 0; t < T; ++t) {
      inputs[size_t(b * T + t)] = (start + step * t) % V;
      targets[size_t(b * T + t)] = t == 0 ? -100 : (start + step * (t + 1)) % V;
    }
  }
  return {from_vector(inputs, {B, T}), from_vector(targets, {B, T})};
}

TinyTransformer::TinyTransformer(const DemoConfig& cfg, Generator& gen) : cfg_(cfg) {
  const int64_t C = cfg.dim;
  wte_ = register_module("wte", std::make_shared<nn::Embedding>(cfg.vocab, C, 0.02, gen));
  wpe_ = register_module("wpe", std::make_shared<nn::Embedding>(cfg.seq_len, C, 0.02, gen));
  ln_1_ = register_module("ln_1", std::make_shared<nn::LayerNorm>(C));
  c_attn_ = register_module("c_attn", std::make_shared<nn::Linear>(C, 3 * C, true, 0.02, gen));
  c_proj_ = register_module("c_proj", std::make_shared<nn::Linear>(C, C, true, 0.02, gen));
  ln_2_ = register_module("ln_2", std::make_shared<nn::LayerNorm>(C));
  c_fc_ = register_module("c_fc", std::make_shared<nn::Linear>(C, 4 * C, true, 0.02, gen));
  mlp_proj_ = register_module("mlp_proj", std::make_shared<nn::Linear>(4 * C, C, true, 0.02, gen));
  ln_f_ = register_module("ln_f", std::make_shared<nn::LayerNorm>(C));
  head_ = register_module("head", std::make_shared<nn::Linear>(C, cfg.vocab, false, 0.02, gen));
}

Tensor TinyTransformer::forward(const Tensor& ids) const {
  const int64_t B = ids.size(0), T = ids.size(1), C = cfg_.dim, H = cfg_.heads;
  // h = E[ids] + P[0..T)
  Tensor h = add(wte_->forward(ids), wpe_->forward(arange(0, T)));
  // Pre-LN attention: q, k, v = split(LN(h) W_qkv), heads [B, H, T, C/H]
  auto qkv = split(c_attn_->forward(ln_1_->forward(h)), {C, C, C}, -1);
  auto heads = [&](const Tensor& t) { return transpose(reshape(t, {B, T, H, C / H}), 1, 2); };
  AttentionOptions causal;
  causal.causal = true;
  Tensor a = attention(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), Tensor(), causal);
  h = add(h, c_proj_->forward(reshape(transpose(a, 1, 2), {B, T, C})));
  // Pre-LN MLP: h + W_2 gelu(W_1 LN(h))
  h = add(h, mlp_proj_->forward(gelu(c_fc_->forward(ln_2_->forward(h)))));
  return head_->forward(ln_f_->forward(h));
}

DemoResult run_demo(const DemoConfig& cfg, int64_t log_every, const std::function<void(int64_t, double)>& log) {
  Generator gen(cfg.seed);
  TinyTransformer model(cfg, gen);
  nn::AdamWOptions adam;
  adam.lr = cfg.lr;
  nn::AdamW opt(model.trainable_parameters(), adam);
  DemoResult result;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 1; step <= cfg.steps; ++step) {
    DemoBatch batch = make_demo_batch(cfg, gen);
    Tensor logits = model.forward(batch.inputs);
    Tensor loss = cross_entropy(reshape(logits, {-1, cfg.vocab}), reshape(batch.targets, {-1}));
    opt.zero_grad();
    backward(loss);
    opt.step();
    const double value = loss.item();
    // A diverged run (lr too large) must not report "loss fell ... to nan" and succeed.
    PETL_CHECK(std::isfinite(value), "train: the loss became ", value, " at step ", step, " (lr ", cfg.lr,
               "): training diverged; try a smaller --lr");
    if (step == 1) result.first_loss = value;
    result.last_loss = value;
    if (log && (step == 1 || step % log_every == 0 || step == cfg.steps)) log(step, value);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace petl::train

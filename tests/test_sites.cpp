// The PEFT hook points (nn/sites.h) carry the four method shapes of the next issue. Each module
// below is a few lines against the interface, written here only to prove it: a sequential adapter,
// a parallel adapter, LoRA and a prefix, attached to GPT-2 and BART from outside.
#include <cmath>

#include "nn/bart.h"
#include "nn/gpt2.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;

namespace {

Tensor normal_param(const Shape& shape, double std, Generator& gen) {
  return randn(shape, DType::F32, Device::cpu(), gen) * std;
}

// Houlsby: h <- h + relu(h W_down) W_up, W_up = 0 at init (reads the sublayer output h).
struct SequentialAdapter : Module, SublayerHook {
  SequentialAdapter(int64_t d, int64_t r, Generator& gen) {
    down = register_parameter("down", normal_param({d, r}, 0.02, gen));
    up = register_parameter("up", zeros({r, d}));
  }
  Tensor apply(const Tensor&, const Tensor& h) override { return h + matmul(relu(matmul(h, down)), up); }
  Tensor down, up;
};

// He et al.: h <- h + s * relu(x W_down) W_up (reads the sublayer input x).
struct ParallelAdapter : Module, SublayerHook {
  ParallelAdapter(int64_t d, int64_t r, double s_, Generator& gen) : s(s_) {
    down = register_parameter("down", normal_param({d, r}, 0.02, gen));
    up = register_parameter("up", zeros({r, d}));
  }
  Tensor apply(const Tensor& x, const Tensor& h) override { return h + matmul(relu(matmul(x, down)), up) * s; }
  Tensor down, up;
  double s;
};

// LoRA: y <- y + (alpha / r) (x A) B, B = 0 at init.
struct Lora : Module, LinearHook {
  Lora(int64_t in, int64_t out, int64_t r, double alpha, Generator& gen) : scale(alpha / double(r)) {
    A = register_parameter("A", normal_param({in, r}, 0.02, gen));
    B = register_parameter("B", zeros({r, out}));
  }
  Tensor apply(const Tensor& x, const Tensor& y) override { return y + matmul(matmul(x, A), B) * scale; }
  Tensor A, B;
  double scale;
};

// Prefix tuning: P_k, P_v [1, H, P, d_h] prepended to every attention's keys and values.
struct Prefix : Module, KeyValueHook {
  Prefix(Tensor k, Tensor v) {
    P_k = register_parameter("P_k", k);
    P_v = register_parameter("P_v", v);
  }
  KeyValueRows rows(int64_t) override { return {P_k, P_v}; }
  Tensor P_k, P_v;
};

Gpt2Config tiny_gpt2() {
  Gpt2Config c;
  c.vocab_size = 50;
  c.n_positions = 32;
  c.n_embd = 16;
  c.n_layer = 2;
  c.n_head = 2;
  c.bos_token_id = c.eos_token_id = 49;
  return c;
}

Tensor ids_of(const std::vector<int64_t>& ids, int64_t B, int64_t T) { return from_vector(ids, {B, T}); }

bool has_nonzero_grad(const Tensor& t) {
  if (!t.grad().defined()) return false;
  for (double v : t.grad().to_vector())
    if (v != 0.0) return true;
  return false;
}

}  // namespace

TEST_CASE("sites: adapters and LoRA at their init leave GPT-2's logits exactly unchanged") {
  Gpt2LMHead model(tiny_gpt2(), 7);
  model.train(false);
  const Tensor ids = ids_of({1, 5, 9, 2, 7, 3, 8, 4}, 2, 4);
  const std::vector<double> base = model.forward(ids).to_vector();

  Generator gen(11);
  SiteMap sites = model.sites();
  std::vector<std::shared_ptr<Module>> methods;
  for (auto& [name, site] : sites.sublayers) {
    if (name.ends_with(".attn")) {
      auto a = std::make_shared<SequentialAdapter>(16, 4, gen);
      site->attach(a);
      methods.push_back(a);
    } else if (name.ends_with(".mlp")) {
      auto a = std::make_shared<ParallelAdapter>(16, 4, 4.0, gen);
      site->attach(a);
      methods.push_back(a);
    }
  }
  for (auto& [name, site] : sites.linears)
    if (name.ends_with(".c_attn")) {
      auto l = std::make_shared<Lora>(16, 48, 2, 4.0, gen);
      site->attach(l);
      methods.push_back(l);
    }
  CHECK(methods.size() == 6);
  CHECK(model.forward(ids).to_vector() == base);
}

TEST_CASE("sites: with the base frozen, gradients reach only the attached methods' parameters") {
  Gpt2LMHead model(tiny_gpt2(), 7);
  model.train(false);
  model.set_trainable(false);
  Generator gen(12);
  SiteMap sites = model.sites();
  auto seq = std::make_shared<SequentialAdapter>(16, 4, gen);
  auto par = std::make_shared<ParallelAdapter>(16, 4, 4.0, gen);
  auto lora = std::make_shared<Lora>(16, 48, 2, 4.0, gen);
  auto prefix = std::make_shared<Prefix>(normal_param({1, 2, 3, 8}, 1.0, gen), normal_param({1, 2, 3, 8}, 1.0, gen));
  sites.sublayers[0].second->attach(seq);  // transformer.h.0.attn
  sites.sublayers[2].second->attach(par);  // transformer.h.0.mlp
  sites.linears[0].second->attach(lora);   // transformer.h.0.attn.c_attn
  sites.key_values[1].second->attach(prefix);  // transformer.h.1.attn
  REQUIRE(sites.sublayers[0].first == "transformer.h.0.attn");
  REQUIRE(sites.sublayers[2].first == "transformer.h.0.mlp");
  REQUIRE(sites.linears[0].first == "transformer.h.0.attn.c_attn");
  REQUIRE(sites.key_values[1].first == "transformer.h.1.attn");

  const Tensor ids = ids_of({1, 5, 9, 2, 7, 3, 8, 4}, 2, 4);
  const Tensor logits = model.forward(ids);
  backward(model.loss(logits, ids));
  for (auto& [name, p] : model.named_parameters()) {
    INFO(name);
    CHECK(!p.grad().defined());
  }
  // the up-projections (zero at init) get a gradient; the down-projections' gradient is exactly 0
  // through the zero up-projection, but it is computed (defined)
  CHECK(has_nonzero_grad(seq->up));
  CHECK(has_nonzero_grad(par->up));
  CHECK(has_nonzero_grad(lora->B));
  CHECK(lora->A.grad().defined());
  CHECK(has_nonzero_grad(prefix->P_k));
  CHECK(has_nonzero_grad(prefix->P_v));
}

TEST_CASE("sites: a prefix equal to a real context's keys and values continues that context") {
  // The cache of "a b c" used as prefix rows P_k, P_v: the model then scores "d e" at positions 3, 4
  // exactly as it scores them inside "a b c d e" (prefix tuning = a learned past).
  Gpt2LMHead model(tiny_gpt2(), 9);
  model.train(false);
  NoGradGuard no_grad;
  const Tensor full = model.forward(ids_of({3, 1, 4, 1, 5}, 1, 5));  // [1, 5, V]
  std::vector<std::shared_ptr<Prefix>> prefixes;
  SiteMap sites = model.sites();
  // read the per-layer cache through a fresh forward with caches (the StepModel keeps its own)
  std::vector<KeyValueCache> caches(2);
  model.transformer->forward(ids_of({3, 1, 4}, 1, 3), Tensor(), Tensor(), &caches);
  for (size_t i = 0; i < caches.size(); ++i) {
    auto p = std::make_shared<Prefix>(caches[i].k, caches[i].v);
    sites.key_values[i].second->attach(p);
    prefixes.push_back(p);
  }
  const Tensor tail = model.forward(ids_of({1, 5}, 1, 2), Tensor(), ids_of({3, 4}, 1, 2));  // [1, 2, V]
  const std::vector<double> expected = slice(full, 1, 3, 5).to_vector();
  CHECK(testing::max_abs_diff(tail.to_vector(), expected) < 1e-5);
}

TEST_CASE("sites: nothing attached costs nothing -- the same matmuls as a model without sites") {
  Gpt2LMHead model(tiny_gpt2(), 7);
  model.train(false);
  const Tensor ids = ids_of({1, 5, 9, 2}, 1, 4);
  int64_t before = kernel_counters().matmul_calls;
  model.forward(ids);
  const int64_t plain = kernel_counters().matmul_calls - before;
  Generator gen(3);
  auto lora = std::make_shared<Lora>(16, 48, 2, 4.0, gen);
  SiteMap sites = model.sites();
  sites.linears[0].second->attach(lora);
  before = kernel_counters().matmul_calls;
  model.forward(ids);
  CHECK(kernel_counters().matmul_calls - before == plain + 2);  // x A, then (x A) B
  sites.linears[0].second->detach(lora.get());
  before = kernel_counters().matmul_calls;
  model.forward(ids);
  CHECK(kernel_counters().matmul_calls - before == plain);
  // 2 layers x (c_attn, c_proj, c_fc, c_proj) + the head
  CHECK(plain == 2 * 4 + 1);
}

TEST_CASE("sites: BART exposes every hook point, and an attached LoRA on q_proj/v_proj starts as identity") {
  BartConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.encoder_layers = c.decoder_layers = 2;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = c.decoder_ffn_dim = 32;
  c.max_position_embeddings = 16;
  BartForConditionalGeneration model(c, 5);
  model.train(false);
  SiteMap sites = model.sites();
  // per encoder layer: self_attn, ffn, self_attn.heads; per decoder layer: + encoder_attn, its heads
  CHECK(sites.sublayers.size() == 2 * 3 + 2 * 5);
  CHECK(sites.key_values.size() == 2 + 2 * 2);
  CHECK(sites.linears.size() == 2 * 6 + 2 * 10);
  CHECK(sites.embeddings.size() == 2);
  const Tensor src = ids_of({0, 5, 6, 2, 0, 7, 2, 1}, 2, 4), mask = from_vector(std::vector<double>{1, 1, 1, 1, 1, 1, 1, 0}, {2, 4});
  const Tensor tgt = ids_of({2, 0, 9, 2, 0, 8}, 2, 3);
  const std::vector<double> base = model.forward(src, mask, tgt).to_vector();
  Generator gen(4);
  for (auto& [name, site] : sites.linears)
    if (name.ends_with(".q_proj") || name.ends_with(".v_proj")) site->attach(std::make_shared<Lora>(16, 16, 2, 8.0, gen));
  CHECK(model.forward(src, mask, tgt).to_vector() == base);
}

// Multi-head parallel adapter (peft/multihead_parallel_adapter.h, PEFT.md §7): the equation against
// a hand-written loop, the zero-value identity, what trains, an f64 gradcheck, and the saved and
// train-time parameter counts at GPT-2 small and medium.
#include <cmath>

#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/multihead_parallel_adapter.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

// A query projection [d, out] (math layout) with bias, standing alone.
LinearTarget query_target(int64_t d, int64_t out, Generator& gen, DType dtype = DType::F32) {
  LinearTarget t;
  t.name = "attn.c_attn";
  t.in = d;
  t.out = out;
  t.weight = randn({d, out}, dtype, Device::cpu(), gen) * 0.3;
  t.bias = randn({out}, dtype, Device::cpu(), gen) * 0.1;
  return t;
}

// Δ[b, t, j·d_h + c] = Σ_p relu(Σ_c' q~[b, t, j·d_h + c'] k[j, p, c']) v[j, p, c'],
// q~ = LN(x) W_q + b_q, written out element by element.
std::vector<double> reference_delta(const std::vector<double>& x, const std::vector<double>& W, int64_t w_cols,
                                    const std::vector<double>& b, const std::vector<double>& k,
                                    const std::vector<double>& v, int64_t rows, int64_t heads, int64_t d,
                                    int64_t r) {
  const int64_t dh = d / heads;
  std::vector<double> out(size_t(rows * d), 0.0);
  for (int64_t n = 0; n < rows; ++n) {
    double mean = 0.0, var = 0.0;
    for (int64_t c = 0; c < d; ++c) mean += x[size_t(n * d + c)] / double(d);
    for (int64_t c = 0; c < d; ++c) var += std::pow(x[size_t(n * d + c)] - mean, 2) / double(d);
    std::vector<double> ln(static_cast<size_t>(d)), q(static_cast<size_t>(d), 0.0);
    for (int64_t c = 0; c < d; ++c) ln[size_t(c)] = (x[size_t(n * d + c)] - mean) / std::sqrt(var + 1e-5);
    for (int64_t o = 0; o < d; ++o) {
      q[size_t(o)] = b[size_t(o)];
      for (int64_t c = 0; c < d; ++c) q[size_t(o)] += ln[size_t(c)] * W[size_t(c * w_cols + o)];
    }
    for (int64_t j = 0; j < heads; ++j)
      for (int64_t p = 0; p < r; ++p) {
        double s = 0.0;
        for (int64_t c = 0; c < dh; ++c) s += q[size_t(j * dh + c)] * k[size_t((j * r + p) * dh + c)];
        s = std::max(s, 0.0);
        for (int64_t c = 0; c < dh; ++c) out[size_t(n * d + j * dh + c)] += s * v[size_t((j * r + p) * dh + c)];
      }
  }
  return out;
}

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

TEST_CASE("mh parallel adapter: Δ_j = ReLU(q~_j P_k^(j)T) P_v^(j) as written out by hand (q and fused q|k|v)") {
  const int64_t d = 8, heads = 2, r = 3, B = 2, T = 3;
  for (const int64_t out : {d, 3 * d}) {
    CAPTURE(out);
    Generator gen(1);
    const LinearTarget q = query_target(d, out, gen);
    MultiheadParallelAdapter adapter(q, heads, 0.0);
    const Tensor x = randn({B, T, d}, DType::F32, Device::cpu(), gen);
    const Tensor k = randn({1, heads, r, d / heads}, DType::F32, Device::cpu(), gen);
    const Tensor v = randn({1, heads, r, d / heads}, DType::F32, Device::cpu(), gen);
    const std::vector<double> got = adapter.delta(x, k, v).to_vector();
    const std::vector<double> want = reference_delta(x.to_vector(), q.weight.to_vector(), out, q.bias.to_vector(),
                                                     k.to_vector(), v.to_vector(), B * T, heads, d, r);
    REQUIRE(got.size() == want.size());
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::fabs(got[i] - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    MESSAGE("mh pa: max |Δ - reference| " << worst << " (max |Δ| " << scale << ")");
    CHECK(scale > 0.1);
    CHECK(worst <= 1e-5 * scale);
  }
}

TEST_CASE("mh parallel adapter: LN_ef starts at γ = 1, β = 0, and with P_v = 0 the logits are exactly the base's") {
  auto base = load_gpt2("tests/fixtures/gpt2/model");
  base->train(false);
  const Tensor ids = from_vector(std::vector<int64_t>{5, 9, 17, 3, 100, 42}, {1, 6});
  const std::vector<double> want = base->forward(ids).to_vector();
  SiteMap sites = base->sites();
  MultiheadParallelOptions o;
  o.rows = 4;
  o.projection = false;  // R is the table itself, so its value rows can be zeroed
  MultiheadParallelAdapters mh(*base, sites, 4, o, 3);
  REQUIRE(mh.adapters.size() == 2);
  for (const auto& entry : mh.adapters) {
    CAPTURE(entry.first);
    for (double g : entry.second->layer_norm->weight.to_vector()) CHECK(g == 1.0);
    for (double b : entry.second->layer_norm->bias.to_vector()) CHECK(b == 0.0);
  }
  CHECK(base->forward(ids).to_vector() != want);  // no identity init in [UV]: Δ ≠ 0 from the start
  {
    NoGradGuard no_grad;
    const Tensor R = mh.prefix->embedding->weight;  // [r, 2Ld], slot 2i + 1 = layer i's values
    const int64_t d = 48;
    for (int64_t i = 0; i < 2; ++i) kernel::copy_(slice(R, 1, (2 * i + 1) * d, (2 * i + 2) * d), zeros({4, d}));
  }
  CHECK(base->forward(ids).to_vector() == want);
}

TEST_CASE("mh parallel adapter: only LN_ef and the prefix network get gradients") {
  auto base = load_gpt2("tests/fixtures/gpt2/model");
  base->train(false);
  SiteMap sites = base->sites();
  MultiheadParallelOptions o;
  o.rows = 4;
  o.hidden = 16;
  MultiheadParallelAdapters mh(*base, sites, 4, o, 3);
  CHECK(base->parameter_count(true) == 0);
  const Tensor ids = from_vector(std::vector<int64_t>{5, 9, 17, 3, 100, 42}, {1, 6});
  backward(base->loss(base->forward(ids), ids));
  for (const auto& np : base->named_parameters()) {
    CAPTURE(np.first);
    CHECK(!np.second.grad().defined());
  }
  for (const auto& np : mh.named_parameters()) {
    CAPTURE(np.first);
    REQUIRE(np.second.grad().defined());
    double norm = 0.0;
    for (double g : np.second.grad().to_vector()) norm += g * g;
    CHECK(norm > 0.0);
  }
}

TEST_CASE("mh parallel adapter: f64 gradcheck of Δ in x, LN_ef γ and β, P_k and P_v") {
  const int64_t d = 8, heads = 2, r = 3;
  Generator gen(2);
  const LinearTarget q = query_target(d, 3 * d, gen, DType::F64);
  MultiheadParallelAdapter adapter(q, heads, 0.0);
  auto leaf = [&](const Shape& shape, double scale, double shift) {
    Tensor t = (randn(shape, DType::F64, Device::cpu(), gen) * scale + shift).detach();
    t.set_requires_grad(true);
    return t;
  };
  const std::vector<Tensor> in{leaf({2, 3, d}, 1.0, 0.0), leaf({d}, 0.2, 1.0), leaf({d}, 0.2, 0.0),
                               leaf({1, heads, r, d / heads}, 1.0, 0.0), leaf({1, heads, r, d / heads}, 1.0, 0.0)};
  const GradcheckResult res = gradcheck(
      [&](const std::vector<Tensor>& t) {
        adapter.layer_norm->weight = t[1];
        adapter.layer_norm->bias = t[2];
        return adapter.delta(t[0], t[3], t[4]);
      },
      in);
  INFO(res.report);
  CHECK(res.ok);
  CHECK(res.checked == 48 + 8 + 8 + 24 + 24);
}

TEST_CASE("mh parallel adapter: saved L(2rd + 2d) and train-time counts of PEFT.md §7.2 (GPT-2 small, medium)") {
  // r = 30, k = 800; counted on models of depth 1 and 2 at the real width (every count is affine in L)
  for (const auto& [d, L, heads] : {std::tuple{int64_t(768), int64_t(12), int64_t(12)},
                                    std::tuple{int64_t(1024), int64_t(24), int64_t(16)}}) {
    const int64_t width = d, n_heads = heads;
    int64_t saved[2], train[2];
    for (int64_t layers : {1, 2}) {
      Gpt2LMHead model(gpt2_shape(width, layers, n_heads), 1);
      SiteMap sites = model.sites();
      MultiheadParallelAdapters mh(model, sites, n_heads, MultiheadParallelOptions{}, 1);
      train[layers - 1] = mh.parameter_count(true);
      saved[layers - 1] = mh.parameter_count() - mh.prefix->parameter_count() + mh.prefix->folded()->parameter_count();
    }
    const int64_t saved_L = saved[0] + (L - 1) * (saved[1] - saved[0]);
    const int64_t train_L = train[0] + (L - 1) * (train[1] - train[0]);
    CHECK(saved_L == L * (2 * 30 * width + 2 * width));
    // §3.6's train-time prefix network at P = 30, k = 800 (15,402,272 / 40,221,472) plus LN_ef
    CHECK(train_L == (width == 768 ? 15402272 : 40221472) + L * 2 * width);
  }
}

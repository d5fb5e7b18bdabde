// The autograd engine: accumulation, no-grad scopes, graph release, frozen weights, and the fused
// attention's backward against the same attention composed from primitive ops.
#include <cmath>

#include "support/tensor_helpers.h"
#include "tensor/allocator.h"

using namespace petl;
using petl::testing::leaf;

TEST_CASE("autograd: gradients accumulate across backward calls until zero_grad") {
  Tensor x = leaf({3}, 1);
  backward(sum(x * x));
  const auto once = x.grad().to_vector();
  backward(sum(x * x));
  const auto twice = x.grad().to_vector();
  for (size_t i = 0; i < once.size(); ++i) {
    CHECK(once[i] == doctest::Approx(2 * x.at({int64_t(i)})));
    CHECK(twice[i] == doctest::Approx(2 * once[i]));
  }
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("autograd: a tensor used twice gets both contributions") {
  Tensor x = leaf({2, 2}, 2);
  Tensor y = x * 3.0 + exp(x);  // dy/dx = 3 + exp(x)
  backward(sum(y));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) CHECK(x.grad().at({i, j}) == doctest::Approx(3.0 + std::exp(x.at({i, j}))));
}

TEST_CASE("autograd: no-grad scope records nothing") {
  Tensor x = leaf({2}, 3);
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
  }
  CHECK(grad_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("autograd: the graph is released after backward") {
  Tensor x = leaf({2}, 4);
  Tensor loss = sum(exp(x));
  backward(loss);
  CHECK_THROWS_WITH_AS(backward(loss), doctest::Contains("already freed"), Error);
  Tensor loss2 = sum(exp(x));
  backward(loss2, Tensor(), /*retain_graph=*/true);
  CHECK_NOTHROW(backward(loss2));  // retained once, so it can run a second time
}

TEST_CASE("autograd: backward needs a scalar or an explicit gradient") {
  Tensor x = leaf({3}, 5);
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(backward(y), doctest::Contains("implicit gradient only for a scalar"), Error);
  backward(y, ones({3}, DType::F64));
  CHECK(x.grad().at({1}) == doctest::Approx(2.0));
  Tensor frozen = ones({2});
  CHECK_THROWS_AS(backward(sum(frozen)), Error);
}

TEST_CASE("autograd: a frozen weight costs no weight-gradient GEMM") {
  // y = x W: backward needs dX = g W^T (one GEMM) and dW = X^T g (another) only if W trains.
  Tensor x = leaf({4, 8, 16}, 6);
  Tensor w = randn({16, 32}, DType::F64);  // frozen: requires_grad is false
  Tensor y = matmul(x, w);
  const int64_t before = kernel_counters().matmul_calls;
  backward(sum(y));
  CHECK(kernel_counters().matmul_calls - before == 1);
  CHECK(x.grad().defined());
  CHECK_FALSE(w.grad().defined());

  w.set_requires_grad(true);
  x.zero_grad();
  Tensor y2 = matmul(x, w);
  const int64_t before2 = kernel_counters().matmul_calls;
  backward(sum(y2));
  CHECK(kernel_counters().matmul_calls - before2 == 2);
  CHECK(w.grad().defined());

  // Neither input trains: no graph at all, so no backward GEMM can happen.
  Tensor x3 = randn({2, 16}, DType::F64), w3 = randn({16, 4}, DType::F64);
  CHECK_FALSE(matmul(x3, w3).requires_grad());
}

TEST_CASE("autograd: a weight used through a transposed view gets its gradient in its own layout, uncopied") {
  // x [2, 5, 6] @ W^T with W [7, 6] (BART's nn.Linear layout, GPT-2's tied LM head) against the
  // same product with the weight stored as V = W^T [6, 7]: equal gradients, and the transposed case
  // allocates nothing more in backward (no copy of a strided gradient into the leaf).
  const Tensor x = leaf({2, 5, 6}, 61).detach();  // no dX: only the weight gradients are compared
  Tensor w = leaf({7, 6}, 62);
  Tensor v = kernel::contiguous(kernel::transpose(w.detach(), 0, 1));
  v.set_requires_grad(true);
  auto allocations = [] {
    const MemoryStats m = allocator_for(Device::cpu()).stats();
    return m.system_allocs + m.cache_hits;
  };
  const Tensor up = randn({2, 5, 7}, DType::F64);
  Tensor y_t = matmul(x, transpose(w, 0, 1)), y_v = matmul(x, v);
  CHECK(petl::testing::max_abs_diff(y_t.to_vector(), y_v.to_vector()) < 1e-12);
  const int64_t before_t = allocations();
  backward(y_t, up);
  const int64_t after_t = allocations();
  backward(y_v, up);
  const int64_t after_v = allocations();
  CHECK(after_t - before_t == after_v - after_t);
  REQUIRE(w.grad().defined());
  CHECK(w.grad().is_contiguous());
  CHECK(petl::testing::max_abs_diff(w.grad().to_vector(), kernel::contiguous(kernel::transpose(v.grad(), 0, 1)).to_vector()) < 1e-12);
}

TEST_CASE("autograd: gradcheck catches a wrong backward") {
  // y = x^2 with a deliberately wrong derivative 3x: the check must fail.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y = kernel::binary(BinaryOp::Mul, x, x);
    return record("wrong_square", y, {&x}, [x = x.detach()](BackwardContext& ctx) {
      ctx.set(0, kernel::binary(BinaryOp::Mul, ctx.grad, kernel::binary(BinaryOp::Mul, x, scalar(3.0, DType::F64))));
    });
  };
  const GradcheckResult r = gradcheck(wrong_square, {leaf({3}, 7)});
  CHECK_FALSE(r.ok);
  CHECK(r.report.find("analytic") != std::string::npos);
}

namespace {
// softmax(scale Q K^T + mask) V from primitive ops, with the same visibility rule as the fused op.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal) {
  const int64_t B = q.size(0), Tq = q.size(2), Tk = k.size(2), D = q.size(3);
  Tensor scores = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(double(D)));  // [B, H, Tq, Tk]
  std::vector<double> hidden(size_t(B * Tq * Tk), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t j = 0; j < Tk; ++j) {
        const bool masked = key_mask.defined() && key_mask.at({b, j}) == 0;
        const bool future = causal && j > i + (Tk - Tq);
        hidden[size_t((b * Tq + i) * Tk + j)] = masked || future ? 1.0 : 0.0;
      }
  Tensor mask = from_vector(hidden, {B, 1, Tq, Tk}, DType::F64);
  return matmul(softmax(masked_fill(scores, mask, -1e30), -1), v);
}
}  // namespace

TEST_CASE("autograd: fused attention matches attention composed from primitive ops") {
  const int64_t B = 2, H = 3, Tq = 4, Tk = 6, D = 5;
  std::vector<int64_t> keep(size_t(B * Tk), 1);
  keep[size_t(Tk - 1)] = keep[size_t(Tk - 2)] = 0;  // batch 0 has two padding keys
  const Tensor mask = from_vector(keep, {B, Tk});
  for (bool causal : {false, true}) {
    CAPTURE(causal);
    Tensor q1 = leaf({B, H, Tq, D}, 8), k1 = leaf({B, H, Tk, D}, 9), v1 = leaf({B, H, Tk, D}, 10);
    Tensor q2 = leaf({B, H, Tq, D}, 8), k2 = leaf({B, H, Tk, D}, 9), v2 = leaf({B, H, Tk, D}, 10);
    AttentionOptions opts;
    opts.causal = causal;
    Tensor fused = attention(q1, k1, v1, mask, opts);
    Tensor composed = composed_attention(q2, k2, v2, mask, causal);
    Tensor R = randn(fused.shape(), DType::F64);
    backward(sum(fused * R));
    backward(sum(composed * R));
    auto max_diff = [](const Tensor& a, const Tensor& b) {
      return petl::testing::max_abs_diff(a.to_vector(), b.to_vector());
    };
    CHECK(max_diff(fused, composed) < 1e-12);
    CHECK(max_diff(q1.grad(), q2.grad()) < 1e-12);
    CHECK(max_diff(k1.grad(), k2.grad()) < 1e-12);
    CHECK(max_diff(v1.grad(), v2.grad()) < 1e-12);
  }
}

TEST_CASE("autograd: only the inputs that need it get a gradient through attention") {
  Tensor q = leaf({1, 1, 3, 2}, 11);
  Tensor k = randn({1, 1, 3, 2}, DType::F64), v = randn({1, 1, 3, 2}, DType::F64);
  backward(sum(attention(q, k, v)));
  CHECK(q.grad().defined());
  CHECK_FALSE(k.grad().defined());
  CHECK_FALSE(v.grad().defined());
}

// The fused ops of issue 11 §4: bias + GELU (bias_gelu) and residual add + layer norm
// (add_layer_norm). Gradients by finite differences in float64; float32 results against the
// unfused graph they replace (add then gelu, add then layer_norm); the composed defaults other
// backends inherit (Backend::bias_activation, ...) against the CPU's one-pass versions.
#include "autograd/graph.h"
#include "support/tensor_helpers.h"
#include "tensor/cpu/backend.h"

using namespace petl;
using petl::testing::leaf;
using petl::testing::max_abs_diff;
using petl::testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

namespace {
// A float32 leaf with N(0, scale^2) values.
Tensor f32_leaf(const Shape& shape, uint64_t seed, double scale = 1.0) {
  Generator gen(seed);
  Tensor t = kernel::binary(BinaryOp::Mul, randn(shape, DType::F32, Device::cpu(), gen),
                            scalar(scale, DType::F32, Device::cpu()));
  t.set_requires_grad(true);
  return t;
}
double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}
}  // namespace

TEST_CASE("gradcheck: bias_gelu, both approximations") {
  Tensor x = leaf({2, 3, 5}, 1), b = leaf({5}, 2);
  Tensor xt = transposed_leaf({4, 6}, 3), b6 = leaf({6}, 4);
  CHECK_GRADIENTS([](const Inputs& in) { return bias_gelu(in[0], in[1], GeluApprox::Tanh); }, x, b);
  CHECK_GRADIENTS([](const Inputs& in) { return bias_gelu(in[0], in[1], GeluApprox::Erf); }, x, b);
  CHECK_GRADIENTS([](const Inputs& in) { return bias_gelu(in[0], in[1], GeluApprox::Tanh); }, xt, b6);
  // Only one of the two wanting a gradient (a frozen bias; a bias over a constant input).
  Tensor frozen_b = leaf({5}, 5).detach();
  CHECK_GRADIENTS([frozen_b](const Inputs& in) { return bias_gelu(in[0], frozen_b, GeluApprox::Erf); }, x);
  Tensor const_x = leaf({2, 3, 5}, 6).detach();
  CHECK_GRADIENTS([const_x](const Inputs& in) { return bias_gelu(const_x, in[0], GeluApprox::Tanh); }, b);
}

TEST_CASE("gradcheck: add_layer_norm, y alone and with h used downstream") {
  Tensor x = leaf({2, 3, 6}, 11), r = leaf({2, 3, 6}, 12), g = leaf({6}, 13), b = leaf({6}, 14);
  // Post-LN (BART): only y leaves the op.
  CHECK_GRADIENTS([](const Inputs& in) { return add_layer_norm(in[0], in[1], in[2], in[3], 1e-5).y; }, x, r, g, b);
  // Pre-LN (GPT-2): h is the residual stream and reaches the output too, so when the layer norm's
  // backward runs, h already holds a gradient, which it takes and adds in its own pass.
  CHECK_GRADIENTS(
      [](const Inputs& in) {
        const auto [h, y] = add_layer_norm(in[0], in[1], in[2], in[3], 1e-5);
        return y * 0.5 + h * h;
      },
      x, r, g, b);
  Tensor xt = transposed_leaf({4, 5}, 15), rt = transposed_leaf({4, 5}, 16);
  CHECK_GRADIENTS(
      [](const Inputs& in) {
        const auto [h, y] = add_layer_norm(in[0], in[1], Tensor(), Tensor(), 1e-3);
        return h + y;
      },
      xt, rt);
}

TEST_CASE("bias_gelu equals gelu(x + b) in float32, values and gradients") {
  for (GeluApprox approx : {GeluApprox::Tanh, GeluApprox::Erf}) {
    Tensor x = f32_leaf({3, 7, 40}, 21, 2.0), b = f32_leaf({40}, 22), up = f32_leaf({3, 7, 40}, 23).detach();
    const Tensor fused = bias_gelu(x, b, approx);
    backward(sum(fused * up));
    const std::vector<double> y1 = fused.to_vector(), dx1 = x.grad().to_vector(), db1 = b.grad().to_vector();
    x.zero_grad();
    b.zero_grad();
    const Tensor plain = gelu(x + b, approx);
    backward(sum(plain * up));
    CHECK(max_abs_diff(y1, plain.to_vector()) == 0.0);        // the same float arithmetic
    CHECK(max_abs_diff(dx1, x.grad().to_vector()) == 0.0);
    // db: the same terms summed in another order (per-thread partials vs the reduce kernel)
    CHECK(max_abs_diff(db1, b.grad().to_vector()) <= 1e-5 * max_abs(db1));
  }
}

TEST_CASE("add_layer_norm equals layer_norm(x + r) in float32, values and gradients") {
  Tensor x = f32_leaf({4, 9, 48}, 31), r = f32_leaf({4, 9, 48}, 32), g = f32_leaf({48}, 33), b = f32_leaf({48}, 34);
  const Tensor up_y = f32_leaf({4, 9, 48}, 35).detach(), up_h = f32_leaf({4, 9, 48}, 36).detach();
  auto grads = [&] {
    std::vector<std::vector<double>> out;
    for (Tensor* t : {&x, &r, &g, &b}) {
      out.push_back(t->grad().to_vector());
      t->zero_grad();
    }
    return out;
  };
  const auto [fused_h, fused_y] = add_layer_norm(x, r, g, b, 1e-5);
  backward(sum(fused_y * up_y) + sum(fused_h * up_h));
  const auto fused_grads = grads();
  const Tensor h = x + r, y = layer_norm(h, g, b, 1e-5);
  backward(sum(y * up_y) + sum(h * up_h));
  const auto plain_grads = grads();
  CHECK(max_abs_diff(fused_h.to_vector(), h.to_vector()) == 0.0);
  CHECK(max_abs_diff(fused_y.to_vector(), y.to_vector()) == 0.0);
  for (size_t i = 0; i < 4; ++i) {
    INFO("input " << i);
    // dx, dr: up_h + LN term added in the kernel instead of by the engine, in float (rounding of
    // one addition); dgamma, dbeta: the same kernel.
    CHECK(max_abs_diff(fused_grads[i], plain_grads[i]) <= 1e-6 * max_abs(plain_grads[i]));
  }
}

TEST_CASE("the composed defaults (other backends) match the CPU's one-pass fused kernels") {
  CpuBackend cpu;
  Backend& base = cpu;
  const Tensor x = f32_leaf({6, 33}, 41).detach(), r = f32_leaf({6, 33}, 42).detach();
  const Tensor bias = f32_leaf({33}, 43).detach(), gamma = f32_leaf({33}, 44).detach();
  const Tensor beta = f32_leaf({33}, 45).detach();
  const Tensor g = f32_leaf({6, 33}, 46).detach(), extra = f32_leaf({6, 33}, 47).detach();
  auto empty = [](const Shape& s) { return Tensor::empty(s, DType::F32, Device::cpu()); };
  for (UnaryOp op : {UnaryOp::GeluTanh, UnaryOp::GeluErf}) {
    Tensor y1 = empty({6, 33}), y2 = empty({6, 33});
    cpu.bias_activation(op, x, bias, y1);
    base.Backend::bias_activation(op, x, bias, y2);
    CHECK(max_abs_diff(y1.to_vector(), y2.to_vector()) == 0.0);
    Tensor dx1 = empty({6, 33}), dx2 = empty({6, 33}), db1 = empty({33}), db2 = empty({33});
    cpu.bias_activation_backward(op, g, x, bias, dx1, db1);
    base.Backend::bias_activation_backward(op, g, x, bias, dx2, db2);
    CHECK(max_abs_diff(dx1.to_vector(), dx2.to_vector()) == 0.0);
    CHECK(max_abs_diff(db1.to_vector(), db2.to_vector()) <= 1e-6 * max_abs(db1.to_vector()));
  }
  Tensor h1 = empty({6, 33}), h2 = empty({6, 33}), y1 = empty({6, 33}), y2 = empty({6, 33});
  Tensor m1 = empty({6}), m2 = empty({6}), s1 = empty({6}), s2 = empty({6});
  cpu.add_layer_norm(x, r, gamma, beta, 1e-5, h1, y1, m1, s1);
  base.Backend::add_layer_norm(x, r, gamma, beta, 1e-5, h2, y2, m2, s2);
  CHECK(max_abs_diff(h1.to_vector(), h2.to_vector()) == 0.0);
  CHECK(max_abs_diff(y1.to_vector(), y2.to_vector()) == 0.0);
  Tensor dx1 = empty({6, 33}), dx2 = empty({6, 33}), dg1 = empty({33}), dg2 = empty({33}), dbt1 = empty({33}),
         dbt2 = empty({33});
  cpu.layer_norm_backward_add(g, h1, gamma, m1, s1, extra, dx1, dg1, dbt1);
  base.Backend::layer_norm_backward_add(g, h1, gamma, m1, s1, extra, dx2, dg2, dbt2);
  CHECK(max_abs_diff(dx1.to_vector(), dx2.to_vector()) <= 1e-6 * max_abs(dx1.to_vector()));
  CHECK(max_abs_diff(dg1.to_vector(), dg2.to_vector()) == 0.0);
  CHECK(max_abs_diff(dbt1.to_vector(), dbt2.to_vector()) == 0.0);
}

TEST_CASE("fused ops refuse mismatched shapes and activations with a clear error") {
  const Tensor x = f32_leaf({2, 4}, 51).detach();
  CHECK_THROWS_WITH_AS(bias_gelu(x, f32_leaf({3}, 52).detach()), doctest::Contains("bias of shape [3]"), Error);
  CHECK_THROWS_WITH_AS(add_layer_norm(x, f32_leaf({2, 5}, 53).detach(), Tensor(), Tensor()),
                       doctest::Contains("shape mismatch"), Error);
  CHECK_THROWS_WITH_AS(kernel::bias_activation(UnaryOp::Exp, x, f32_leaf({4}, 54).detach()),
                       doctest::Contains("gelu_tanh or gelu_erf"), Error);
}

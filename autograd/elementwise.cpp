// Elementwise ops (arithmetic, unary functions, masked fill, dropout). With broadcasting, an
// input's gradient is summed over the axes it was broadcast along (sum_to), so it has the input's
// own shape again. Backward closures run with grad mode off, so the operators they use record
// nothing: each closure reads like its derivative.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor add(const Tensor& a, const Tensor& b) {
  // y = a + b:  da = g,  db = g
  Tensor y = kernel::binary(BinaryOp::Add, a, b);
  return record("add", y, {&a, &b}, [sa = a.shape(), sb = b.shape()](BackwardContext& ctx) {
    if (ctx.wants(0)) ctx.set(0, sum_to(ctx.grad, sa));
    if (ctx.wants(1)) ctx.set(1, sum_to(ctx.grad, sb));
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  // y = a - b:  da = g,  db = -g
  Tensor y = kernel::binary(BinaryOp::Sub, a, b);
  return record("sub", y, {&a, &b}, [sa = a.shape(), sb = b.shape()](BackwardContext& ctx) {
    if (ctx.wants(0)) ctx.set(0, sum_to(ctx.grad, sa));
    if (ctx.wants(1)) ctx.set(1, -sum_to(ctx.grad, sb));
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  // y = a * b:  da = g * b,  db = g * a. Each operand is kept only when the other one's gradient
  // reads it: scaling an activation by a constant (scores * scale) keeps no copy of the activation.
  Tensor y = kernel::binary(BinaryOp::Mul, a, b);
  return record("mul", y, {&a, &b},
                [sa = a.shape(), sb = b.shape(), a = b.requires_grad() ? a.detach() : Tensor(),
                 b = a.requires_grad() ? b.detach() : Tensor()](BackwardContext& ctx) {
                  const Tensor& g = ctx.grad;
                  if (ctx.wants(0)) ctx.set(0, sum_to(g * b, sa));
                  if (ctx.wants(1)) ctx.set(1, sum_to(g * a, sb));
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  // y = a / b:  da = g / b,  db = -g * a / b^2 = -(g / b) * y  (y kept only when b wants a gradient)
  Tensor y = kernel::binary(BinaryOp::Div, a, b);
  return record("div", y, {&a, &b},
                [sa = a.shape(), b = b.detach(), y = b.requires_grad() ? y.detach() : Tensor()](BackwardContext& ctx) {
                  const Tensor g_over_b = ctx.grad / b;
                  if (ctx.wants(0)) ctx.set(0, sum_to(g_over_b, sa));
                  if (ctx.wants(1)) ctx.set(1, sum_to(-g_over_b * y, b.shape()));
                });
}

namespace {
// y = f(x), dx = g * f'(x) in one fused pass over the derivative table of
// tensor/elementwise_math.h (shared by the CPU and CUDA kernels).
Tensor unary_op(UnaryOp op, const Tensor& x, double param = 0.0) {
  Tensor y = kernel::unary(op, x, param);
  const bool needs_y = op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Tanh;
  return record(unary_op_name(op), y, {&x},
                [op, param, x = x.detach(), y = needs_y ? y.detach() : Tensor()](BackwardContext& ctx) {
                  ctx.set(0, kernel::unary_backward(op, ctx.grad, x, y, param));
                });
}
}  // namespace

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::Sqrt, x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::Tanh, x); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::Relu, x); }
Tensor gelu(const Tensor& x, GeluApprox approx) {
  return unary_op(approx == GeluApprox::Tanh ? UnaryOp::GeluTanh : UnaryOp::GeluErf, x);
}
Tensor pow(const Tensor& x, double exponent) { return unary_op(UnaryOp::Pow, x, exponent); }

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  // y = mask ? value : x:  dx = mask ? 0 : g
  Tensor y = kernel::masked_fill(x, mask, value);
  return record("masked_fill", y, {&x}, [mask = mask.detach()](BackwardContext& ctx) {
    ctx.set(0, masked_fill(ctx.grad, mask, 0.0));
  });
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  if (!training || p == 0.0) return x;
  // y = x * keep / (1 - p): the mask is a function of (seed, offset + i), so backward regenerates
  // it instead of storing it: dx = g * keep / (1 - p).
  const uint64_t seed = gen.seed(), offset = gen.reserve(uint64_t(x.numel()));
  Tensor y = kernel::dropout(x, p, seed, offset);
  return record("dropout", y, {&x}, [p, seed, offset](BackwardContext& ctx) {
    ctx.set(0, kernel::dropout(ctx.grad, p, seed, offset));
  });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }

namespace {
Tensor scalar_like(const Tensor& x, double v) { return scalar(v, x.dtype(), x.device()); }
}  // namespace

Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(a, b)); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(b, a), b); }

}  // namespace petl

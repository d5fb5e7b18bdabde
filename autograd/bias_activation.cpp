// Differentiable bias + GELU after a Linear, fused: one pass forward and one backward over the
// [rows, n] activation instead of an add and a gelu (two forward and three backward passes).
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor bias_gelu(const Tensor& x, const Tensor& bias, GeluApprox approx) {
  // y = gelu(x + b):  dx = g * gelu'(x + b),  db = sum over rows of dx. Keeps x (gelu kept x + b).
  const UnaryOp op = approx == GeluApprox::Tanh ? UnaryOp::GeluTanh : UnaryOp::GeluErf;
  Tensor y = kernel::bias_activation(op, x, bias);
  return record("bias_gelu", y, {&x, &bias}, [op, x = x.detach(), bias = bias.detach()](BackwardContext& ctx) {
    auto d = kernel::bias_activation_backward(op, ctx.grad, x, bias, ctx.wants(0), ctx.wants(1));
    if (ctx.wants(0)) ctx.set(0, d.dx);
    if (ctx.wants(1)) ctx.set(1, d.dbias);
  });
}

}  // namespace petl

// Differentiable layer normalization (fused forward and backward kernels), alone or fused with the
// residual add in front of it.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

namespace {
// The layer norm's node over its input x (h for the fused op). When `absorb_pending`, dL/dx is
// written as (the gradient x already received from its other consumers) + the normalization's
// term in one kernel pass (BackwardContext::take_pending), instead of the engine adding the two.
Tensor record_layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                         const Tensor& mean, const Tensor& rstd, bool absorb_pending) {
  return record("layer_norm", y, {&x, &gamma, &beta},
                [x = x.detach(), gamma = gamma.defined() ? gamma.detach() : Tensor(), mean, rstd,
                 absorb_pending](BackwardContext& ctx) {
                  const Tensor earlier = absorb_pending && ctx.wants(0) ? ctx.take_pending(0) : Tensor();
                  auto d = kernel::layer_norm_backward(ctx.grad, x, gamma, mean, rstd, ctx.wants(0), ctx.wants(1),
                                                       ctx.wants(2), earlier);
                  if (ctx.wants(0)) ctx.set(0, reshape(d.dx, x.shape()));
                  if (ctx.wants(1)) ctx.set(1, d.dgamma);
                  if (ctx.wants(2)) ctx.set(2, d.dbeta);
                });
}
}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  kernel::LayerNormOut r = kernel::layer_norm(x, gamma, beta, eps);
  return record_layer_norm(x, gamma, beta, r.y, r.mean, r.rstd, /*absorb_pending=*/false);
}

ResidualNorm add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps) {
  // h = x + r, y = LN(h), one kernel pass (issue 11 §4). The graph is that of the unfused ops, an
  // add node for h and a layer-norm node reading h:
  //   dh = (dL/dh from h's other consumers: the residual stream) + LN'(h)^T dy   (one pass)
  //   dx = dr = dh
  auto [sum, normalized, mean, rstd] = kernel::add_layer_norm(x, r, gamma, beta, eps);
  Tensor h = record("add", sum, {&x, &r}, [](BackwardContext& ctx) {
    if (ctx.wants(0)) ctx.set(0, ctx.grad);
    if (ctx.wants(1)) ctx.set(1, ctx.grad);
  });
  Tensor y = record_layer_norm(h, gamma, beta, normalized, mean, rstd, /*absorb_pending=*/true);
  return {h, y};
}

}  // namespace petl

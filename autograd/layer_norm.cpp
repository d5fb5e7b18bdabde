// Differentiable layer normalization (fused forward and backward kernels).
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  kernel::LayerNormOut r = kernel::layer_norm(x, gamma, beta, eps);
  return record("layer_norm", r.y, {&x, &gamma, &beta},
                [x = x.detach(), gamma = gamma.defined() ? gamma.detach() : Tensor(), mean = r.mean,
                 rstd = r.rstd](BackwardContext& ctx) {
                  auto d = kernel::layer_norm_backward(ctx.grad, x, gamma, mean, rstd, ctx.wants(0), ctx.wants(1),
                                                       ctx.wants(2));
                  if (ctx.wants(0)) ctx.set(0, reshape(d.dx, x.shape()));
                  if (ctx.wants(1)) ctx.set(1, d.dgamma);
                  if (ctx.wants(2)) ctx.set(2, d.dbeta);
                });
}

}  // namespace petl

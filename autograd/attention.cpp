// Differentiable fused scaled-dot-product attention.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const AttentionOptions& opts) {
  // O = softmax(scale Q K^T + mask) V, fused; backward in tensor/cpu/attention.cpp.
  kernel::AttentionOut r = kernel::attention(q, k, v, key_mask, opts);
  return record("attention", r.out, {&q, &k, &v},
                [q = q.detach(), k = k.detach(), v = v.detach(), mask = key_mask.defined() ? key_mask.detach() : Tensor(),
                 out = r.out.detach(), lse = r.lse, opts](BackwardContext& ctx) {
                  auto d = kernel::attention_backward(ctx.grad, q, k, v, mask, out, lse, opts, ctx.wants(0),
                                                      ctx.wants(1), ctx.wants(2));
                  if (ctx.wants(0)) ctx.set(0, d.dq);
                  if (ctx.wants(1)) ctx.set(1, d.dk);
                  if (ctx.wants(2)) ctx.set(2, d.dv);
                });
}

}  // namespace petl

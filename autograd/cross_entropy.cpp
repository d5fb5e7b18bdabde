// Differentiable cross-entropy loss (fused forward and backward kernels).
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  // L = mean_i (logsumexp(x_i) - x_i[t_i]):  dx_i = (softmax(x_i) - onehot(t_i)) * g / count
  kernel::CrossEntropyOut r = kernel::cross_entropy(logits, targets, ignore_index);
  return record("cross_entropy", r.loss, {&logits},
                [logits = logits.detach(), targets = targets.detach(), lse = r.lse, ignore_index,
                 count = r.count](BackwardContext& ctx) {
                  ctx.set(0, kernel::cross_entropy_backward(ctx.grad, logits, targets, lse, ignore_index, count));
                });
}

}  // namespace petl

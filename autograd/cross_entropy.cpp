// Differentiable cross-entropy loss (fused forward and backward kernels).
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  // L = mean_i (logsumexp(x_i) - x_i[t_i]):  dx_i = (softmax(x_i) - onehot(t_i)) * g / count
  kernel::CrossEntropyOut r = kernel::cross_entropy(logits, targets, ignore_index);
  // When this closure holds the last reference to the logits (loss(forward(x)) with the logits not
  // kept by the caller) and runs for the last time, dx is written over them: a training step then
  // never holds a second [N, V] tensor. Nothing can read the overwritten logits any more, so this
  // hands their memory over to the gradient rather than writing in place: the storage version
  // stays (the matmul that produced the logits still finds its output unchanged).
  return record("cross_entropy", r.loss, {&logits},
                [logits = logits.detach(), targets = targets.detach(), lse = r.lse, ignore_index,
                 count = r.count](BackwardContext& ctx) mutable {
                  const bool reuse = ctx.last_run() && logits.is_contiguous() && logits.storage().use_count() == 1;
                  ctx.set(0, kernel::cross_entropy_backward(ctx.grad, logits, targets, lse, ignore_index, count, reuse));
                  if (reuse) logits = Tensor();
                });
}

}  // namespace petl

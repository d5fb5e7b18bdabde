// Differentiable softmax and log-softmax.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

namespace {
Tensor softmax_op(const Tensor& x, int64_t axis, bool log) {
  Tensor y = kernel::softmax(x, axis, log);
  return record(log ? "log_softmax" : "softmax", y, {&x}, [y = y.detach(), axis, log](BackwardContext& ctx) {
    ctx.set(0, kernel::softmax_backward(ctx.grad, y, axis, log));
  });
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, true); }

}  // namespace petl

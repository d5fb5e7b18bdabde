// Views. A view's backward maps dL/dy back onto the input's layout: reshape back,
// permute by the inverse order, scatter a slice into zeros, sum an expansion. Backward closures
// run with grad mode off: the public ops they use record nothing.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor reshape(const Tensor& x, Shape shape) {
  Tensor y = kernel::reshape(x, std::move(shape));
  return record("reshape", y, {&x}, [shape = x.shape()](BackwardContext& ctx) {
    ctx.set(0, reshape(ctx.grad, shape));
  });
}

Tensor permute(const Tensor& x, std::vector<int64_t> order) {
  Tensor y = kernel::permute(x, order);
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[size_t(normalize_axis(order[i], x.dim(), "permute"))] = int64_t(i);
  return record("permute", y, {&x}, [inverse](BackwardContext& ctx) { ctx.set(0, permute(ctx.grad, inverse)); });
}

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
  Tensor y = kernel::transpose(x, axis0, axis1);
  return record("transpose", y, {&x}, [axis0, axis1](BackwardContext& ctx) {
    ctx.set(0, transpose(ctx.grad, axis0, axis1));
  });
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  Tensor y = kernel::slice(x, axis, start, end, step);
  return record("slice", y, {&x}, [x = x.detach(), axis, start, end, step](BackwardContext& ctx) {
    Tensor dx = zeros(x.shape(), x.dtype(), x.device());
    kernel::copy_(slice(dx, axis, start, end, step), ctx.grad);  // scatter: an in-place copy, no public op
    ctx.set(0, dx);
  });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = kernel::expand(x, shape);
  return record("expand", y, {&x}, [shape = x.shape()](BackwardContext& ctx) { ctx.set(0, sum_to(ctx.grad, shape)); });
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  Tensor y = kernel::unsqueeze(x, axis);
  return record("unsqueeze", y, {&x}, [shape = x.shape()](BackwardContext& ctx) {
    ctx.set(0, reshape(ctx.grad, shape));
  });
}

Tensor squeeze(const Tensor& x, int64_t axis) {
  Tensor y = kernel::squeeze(x, axis);
  return record("squeeze", y, {&x}, [shape = x.shape()](BackwardContext& ctx) {
    ctx.set(0, reshape(ctx.grad, shape));
  });
}

}  // namespace petl

// Reductions. The gradient of a reduction is dL/dy spread back over the reduced axes.
// Backward closures run with grad mode off: the public ops they use record nothing.
#include <algorithm>

#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

namespace {

std::vector<int64_t> normalized_axes(std::vector<int64_t> axes, int64_t ndim, const char* op) {
  if (axes.empty())
    for (int64_t a = 0; a < ndim; ++a) axes.push_back(a);
  for (int64_t& a : axes) a = normalize_axis(a, ndim, op);
  std::sort(axes.begin(), axes.end());
  return axes;
}

// dL/dy (shape of y) reshaped with size-1 reduced axes, so it broadcasts against x.
Tensor with_kept_axes(const Tensor& g, const Shape& x_shape, const std::vector<int64_t>& axes) {
  Shape kept = x_shape;
  for (int64_t a : axes) kept[size_t(a)] = 1;
  return reshape(g, kept);
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  // y = sum_axes x:  dx = broadcast(g)
  axes = normalized_axes(std::move(axes), x.dim(), "sum");
  Tensor y = kernel::reduce(ReduceOp::Sum, x, axes, keepdim);
  return record("sum", y, {&x}, [shape = x.shape(), axes](BackwardContext& ctx) {
    ctx.set(0, expand(with_kept_axes(ctx.grad, shape, axes), shape));
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  // y = sum_axes x / n:  dx = broadcast(g) / n
  axes = normalized_axes(std::move(axes), x.dim(), "mean");
  Tensor y = kernel::reduce(ReduceOp::Mean, x, axes, keepdim);
  int64_t n = 1;
  for (int64_t a : axes) n *= x.shape()[size_t(a)];
  return record("mean", y, {&x}, [shape = x.shape(), axes, n](BackwardContext& ctx) {
    ctx.set(0, expand(with_kept_axes(ctx.grad, shape, axes) / double(n), shape));
  });
}

Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  // y = max_axes x:  dx = g at the maximal elements (shared equally among ties), 0 elsewhere
  axes = normalized_axes(std::move(axes), x.dim(), "max");
  Tensor y = kernel::reduce(ReduceOp::Max, x, axes, keepdim);
  return record("max", y, {&x}, [x = x.detach(), y = y.detach(), axes, keepdim](BackwardContext& ctx) {
    ctx.set(0, kernel::max_backward(ctx.grad, x, y, axes, keepdim));
  });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  // y = x summed over the axes along which `shape` was broadcast to x's shape:  dx = expand(g)
  Tensor y = kernel::sum_to(x, shape);
  return record("sum_to", y, {&x}, [shape = x.shape()](BackwardContext& ctx) {
    ctx.set(0, expand(ctx.grad, shape));
  });
}

}  // namespace petl

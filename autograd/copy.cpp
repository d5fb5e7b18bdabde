// Copies, device transfers, concatenation and splitting.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = kernel::contiguous(x);
  return record("contiguous", y, {&x}, [](BackwardContext& ctx) { ctx.set(0, ctx.grad); });
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor y = kernel::to(x, device);
  return record("to", y, {&x}, [from = x.device()](BackwardContext& ctx) { ctx.set(0, to(ctx.grad, from)); });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  // y = [x_0; x_1; ...] along axis:  dx_i = the slice of g that x_i occupies
  Tensor y = kernel::concat(xs, axis);
  axis = normalize_axis(axis, xs.front().dim(), "concat");
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.shape()[size_t(axis)]);
  return record("concat", y, xs, [sizes, axis](BackwardContext& ctx) {
    int64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (ctx.wants(i)) ctx.set(i, slice(ctx.grad, axis, at, at + sizes[i]));
      at += sizes[i];
    }
  });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  axis = normalize_axis(axis, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    PETL_CHECK(s >= 0, "split: negative size ", s);
    total += s;
  }
  PETL_CHECK(total == x.shape()[size_t(axis)], "split: sizes add up to ", total, " but axis ", axis, " of ",
             shape_str(x.shape()), " has ", x.shape()[size_t(axis)]);
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, axis, at, at + s));
    at += s;
  }
  return parts;
}

}  // namespace petl

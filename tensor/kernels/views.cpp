// View operations: each returns a new handle over the same storage with other shape/strides/offset.
#include <algorithm>
#include <optional>

#include "tensor/kernels.h"

namespace petl::kernel {

namespace {

Shape infer_shape(const Tensor& x, Shape shape, const char* op) {
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      PETL_CHECK(infer_at < 0, op, ": more than one -1 in target shape ", shape_str(shape));
      infer_at = int64_t(i);
    } else {
      PETL_CHECK(shape[i] >= 0, op, ": invalid dimension ", shape[i], " in target shape ", shape_str(shape));
      PETL_CHECK(!__builtin_mul_overflow(known, shape[i], &known), op, ": target shape ", shape_str(shape),
                 " has more than 2^63 - 1 elements");
    }
  }
  if (infer_at >= 0) {
    PETL_CHECK(known != 0 && x.numel() % known == 0, op, ": cannot reshape ", shape_str(x.shape()), " (",
               x.numel(), " elements) to ", shape_str(shape));
    shape[size_t(infer_at)] = x.numel() / known;
  }
  PETL_CHECK(numel_of(shape) == x.numel(), op, ": cannot reshape ", shape_str(x.shape()), " (", x.numel(),
             " elements) to ", shape_str(shape), " (", numel_of(shape), " elements)");
  return shape;
}

// Strides that let `shape` view x's elements in row-major order without copying, if any exist:
// dims of x are grouped into chunks that are contiguous among themselves, and every chunk must map
// onto whole dims of the new shape.
std::optional<Strides> view_strides(const Tensor& x, const Shape& shape) {
  if (x.is_contiguous()) return contiguous_strides(shape);
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  Strides strides(shape.size());
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[size_t(d)];
    const bool chunk_ends =
        d == 0 || (old_shape[size_t(d - 1)] != 1 && old_strides[size_t(d - 1)] != tensor_numel * chunk_base);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
      strides[size_t(view_d)] = view_numel * chunk_base;
      view_numel *= shape[size_t(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base = old_strides[size_t(d - 1)];
      tensor_numel = view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

}  // namespace

std::optional<Tensor> try_view(const Tensor& x, Shape shape) {
  shape = infer_shape(x, std::move(shape), "view");
  auto strides = view_strides(x, shape);
  if (!strides) return std::nullopt;
  return Tensor(x.storage(), shape, *strides, x.offset(), x.dtype());
}

Tensor view(const Tensor& x, Shape shape) {
  std::optional<Tensor> v = try_view(x, shape);
  PETL_CHECK(v.has_value(), "view: a tensor of shape ", shape_str(x.shape()), " and strides ",
             shape_str(x.strides()), " cannot be viewed as ", shape_str(shape), " without a copy; use reshape");
  return *v;
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape(x, std::move(shape), "reshape");
  if (std::optional<Tensor> v = try_view(x, shape)) return *v;
  Tensor c = contiguous(x);
  return Tensor(c.storage(), shape, contiguous_strides(shape), c.offset(), c.dtype());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  PETL_CHECK(int64_t(order.size()) == x.dim(), "permute: order of ", order.size(), " axes for a tensor of shape ",
             shape_str(x.shape()));
  Shape shape(order.size());
  Strides strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t a = normalize_axis(order[i], x.dim(), "permute");
    PETL_CHECK(!seen[size_t(a)], "permute: axis ", a, " repeated in order");
    seen[size_t(a)] = true;
    shape[i] = x.shape()[size_t(a)];
    strides[i] = x.strides()[size_t(a)];
  }
  return Tensor(x.storage(), shape, strides, x.offset(), x.dtype());
}

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
  std::vector<int64_t> order(size_t(x.dim()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::swap(order[size_t(normalize_axis(axis0, x.dim(), "transpose"))],
            order[size_t(normalize_axis(axis1, x.dim(), "transpose"))]);
  return permute(x, order);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  axis = normalize_axis(axis, x.dim(), "slice");
  const int64_t n = x.shape()[size_t(axis)];
  PETL_CHECK(step > 0, "slice: step must be positive, got ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[size_t(axis)] = (end - start + step - 1) / step;
  strides[size_t(axis)] *= step;
  return Tensor(x.storage(), shape, strides, x.offset() + start * x.strides()[size_t(axis)], x.dtype());
}

Tensor expand(const Tensor& x, const Shape& shape) {
  PETL_CHECK(shape.size() >= size_t(x.dim()), "expand: cannot expand shape ", shape_str(x.shape()), " to ",
             shape_str(shape), " (fewer dims)");
  for (size_t i = 0; i < size_t(x.dim()); ++i) {
    const int64_t have = x.shape()[i], want = shape[shape.size() - size_t(x.dim()) + i];
    PETL_CHECK(have == want || have == 1, "expand: cannot expand shape ", shape_str(x.shape()), " to ",
               shape_str(shape), " (dim ", i, ": ", have, " vs ", want, ")");
  }
  return Tensor(x.storage(), shape, broadcast_strides(x.shape(), x.strides(), shape), x.offset(), x.dtype());
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  axis = normalize_axis(axis, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  const int64_t stride = axis < x.dim() ? shape[size_t(axis)] * strides[size_t(axis)] : 1;
  shape.insert(shape.begin() + axis, 1);
  strides.insert(strides.begin() + axis, stride);
  return Tensor(x.storage(), shape, strides, x.offset(), x.dtype());
}

Tensor squeeze(const Tensor& x, int64_t axis) {
  axis = normalize_axis(axis, x.dim(), "squeeze");
  PETL_CHECK(x.shape()[size_t(axis)] == 1, "squeeze: axis ", axis, " of shape ", shape_str(x.shape()),
             " has size ", x.shape()[size_t(axis)], ", expected 1");
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  return Tensor(x.storage(), shape, strides, x.offset(), x.dtype());
}

}  // namespace petl::kernel

#include "tensor/shape.h"

#include "tensor/error.h"

namespace petl {

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    PETL_CHECK(d >= 0, "shape ", shape_str(shape), " has a negative dimension");
    overflow = __builtin_mul_overflow(n, d, &n) || overflow;
  }
  // A zero anywhere makes the product 0 even when a partial product overflowed ([2^62, 4, 0]).
  for (int64_t d : shape) {
    if (d == 0) return 0;
  }
  PETL_CHECK(!overflow, "shape ", shape_str(shape), " has more than 2^63 - 1 elements");
  return n;
}

std::size_t byte_count(const Shape& shape, std::size_t element_size, const char* op) {
  const int64_t n = numel_of(shape);
  int64_t bytes = 0;
  PETL_CHECK(!__builtin_mul_overflow(n, static_cast<int64_t>(element_size), &bytes), op, ": shape ",
             shape_str(shape), " of ", element_size, "-byte elements needs more than 2^63 - 1 bytes");
  return static_cast<std::size_t>(bytes);
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  PETL_CHECK(axis >= -ndim && axis < ndim, op, ": axis ", axis, " is out of range for a tensor of ",
             ndim, " dims (expected -", ndim, " <= axis < ", ndim, ")");
  return axis < 0 ? axis + ndim : axis;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    PETL_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
               " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  Strides out(target.size(), 0);
  const size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    out[lead + i] = (shape[i] == 1 && target[lead + i] != 1) ? 0 : strides[i];
  return out;
}

}  // namespace petl

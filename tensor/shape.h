// Shapes and strides (in elements), and the NumPy broadcasting rule.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace petl {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// The product of the dimensions; a negative dimension or a product above 2^63 - 1 is an error
// naming the shape (never a wrapped count).
int64_t numel_of(const Shape& shape);
// numel_of(shape) * element_size, checked the same way: the size of a buffer for `shape`.
std::size_t byte_count(const Shape& shape, std::size_t element_size, const char* op);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"

// Axis in [-ndim, ndim) -> [0, ndim); throws naming the op otherwise.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);

// NumPy broadcasting: align trailing dims, each pair equal or one of them 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read `shape` as if it were expanded to `target` (0 on broadcast axes).
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << shape_str(s); }

}  // namespace petl

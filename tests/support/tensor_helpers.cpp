#include "support/tensor_helpers.h"

#include <cmath>

namespace petl::testing {

Tensor leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  Tensor t = randn(shape, DType::F64, Device::cpu(), gen);
  t.set_requires_grad(true);
  return t;
}

Tensor leaf_uniform(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  Tensor t = uniform(shape, lo, hi, DType::F64, Device::cpu(), gen);
  t.set_requires_grad(true);
  return t;
}

Tensor transposed_leaf(const Shape& shape, uint64_t seed) {
  REQUIRE(shape.size() >= 2);
  Shape stored = shape;
  std::swap(stored[stored.size() - 1], stored[stored.size() - 2]);
  Generator gen(seed);
  Tensor t = kernel::transpose(randn(stored, DType::F64, Device::cpu(), gen), -1, -2);
  REQUIRE(!t.is_contiguous());
  t.set_requires_grad(true);
  return t;
}

Tensor strided_leaf(const Shape& shape, uint64_t seed) {
  REQUIRE(!shape.empty());
  Shape stored = shape;
  stored[0] *= 2;
  Generator gen(seed);
  Tensor t = kernel::slice(randn(stored, DType::F64, Device::cpu(), gen), 0, 1, stored[0], 2);
  t.set_requires_grad(true);
  return t;
}

Tensor leaf_away_from_zero(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  Tensor t = uniform(shape, 0.2, 1.5, DType::F64, Device::cpu(), gen);
  Tensor sign = uniform(shape, -1.0, 1.0, DType::F64, Device::cpu(), gen);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (sign.data<double>()[i] < 0) t.data<double>()[i] *= -1.0;
  t.set_requires_grad(true);
  return t;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

int64_t random_dim(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

}  // namespace petl::testing

// Random tensors: uniform and normal draws from a counter-based generator (tensor/random.h), and
// the default generator.
#include <cmath>

#include "tensor/backend.h"

namespace petl {

Tensor randn(const Shape& shape, DType dtype, Device device, Generator& gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  PETL_CHECK(is_floating(dtype), "randn: dtype must be floating, got ", dtype_name(dtype));
  const uint64_t offset = gen.reserve(2 * uint64_t(t.numel()));
  backend_for(device).random_normal(t, 0.0, 1.0, gen.seed(), offset);
  return t;
}

Tensor uniform(const Shape& shape, double low, double high, DType dtype, Device device, Generator& gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  PETL_CHECK(is_floating(dtype), "uniform: dtype must be floating, got ", dtype_name(dtype));
  PETL_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high,
             "uniform: expected finite bounds with low <= high, got low ", low, ", high ", high);
  const uint64_t offset = gen.reserve(uint64_t(t.numel()));
  backend_for(device).random_uniform(t, low, high, gen.seed(), offset);
  return t;
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace petl

// Test inputs: seeded random float64 leaves, contiguous or as non-contiguous views, and a
// doctest-friendly gradient check.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <random>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tensor/kernels.h"
#include "support/skip.h"

namespace petl::testing {

// A random float64 leaf with requires_grad, values in N(0, 1) (or uniform in [lo, hi]).
Tensor leaf(const Shape& shape, uint64_t seed);
Tensor leaf_uniform(const Shape& shape, double lo, double hi, uint64_t seed);
// The same, but a transposed view (last two axes swapped in storage): not contiguous.
Tensor transposed_leaf(const Shape& shape, uint64_t seed);
// The same, but every other element of a twice-as-long first axis: not contiguous.
Tensor strided_leaf(const Shape& shape, uint64_t seed);
// Values away from 0 (|x| >= 0.2), for ops with a kink at 0 (relu, max ties).
Tensor leaf_away_from_zero(const Shape& shape, uint64_t seed);

// max_i |a_i - b_i| over two equally long value lists (tensors: pass .to_vector()).
double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b);

// Small random dimension in [lo, hi] from a test-local generator.
int64_t random_dim(std::mt19937_64& rng, int64_t lo, int64_t hi);

}  // namespace petl::testing

namespace petl::testing {
// Runs gradcheck and reports the worst errors and the first failures when it fails.
inline void check_gradients_list(const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  const GradcheckResult r = gradcheck(fn, inputs);
  INFO("max abs error " << r.max_abs_error << ", max rel error " << r.max_rel_error << ", checked " << r.checked
                        << "\n" << r.report);
  CHECK(r.ok);
  CHECK(r.checked > 0);
  CHECK(r.max_rel_error <= 1e-6);
}
template <class... Ts>
void check_gradients(const GradcheckFn& fn, const Ts&... inputs) {
  check_gradients_list(fn, std::vector<Tensor>{inputs...});
}
}  // namespace petl::testing

#define CHECK_GRADIENTS(...)                       \
  do {                                             \
    INFO("gradient check at line " << __LINE__);   \
    ::petl::testing::check_gradients(__VA_ARGS__); \
  } while (0)

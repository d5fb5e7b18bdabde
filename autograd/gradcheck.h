// Finite-difference gradient checking in float64.
//
// For inputs x_1..x_n (float64 leaves with requires_grad) and f, gradcheck projects the output on a
// fixed random tensor R, L = sum(f(x) * R), and compares dL/dx from backward() with the five-point
// central difference (-L(x+2h e_i) + 8L(x+h e_i) - 8L(x-h e_i) + L(x-2h e_i)) / 12h for every
// element i of every input that requires a gradient. Inputs may be non-contiguous views (transposed, sliced): elements are
// perturbed through the view. They must not be expanded views (one storage element shared by
// several logical elements would be perturbed together).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace petl {

struct GradcheckOptions {
  double eps = 1e-3;  // h; the O(h^4) stencil error stays ~1e-12 for smooth ops
  double rtol = 1e-6;  // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
  double atol = 1e-8;
  uint64_t seed = 1234;  // for the projection R
};

struct GradcheckResult {
  bool ok = true;
  int64_t checked = 0;          // number of partial derivatives compared
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;   // over elements where max(|analytic|, |numeric|) > atol
  std::string report;           // the first failures, with input, index and both values
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opts = {});

}  // namespace petl

#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

namespace {

// Calls visit(index) for every multi-index of shape, row-major.
template <class F>
void for_each_index(const Shape& shape, F&& visit) {
  std::vector<int64_t> index(shape.size(), 0);
  const int64_t n = numel_of(shape);
  for (int64_t i = 0; i < n; ++i) {
    visit(index);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

double projected(const GradcheckFn& f, const std::vector<Tensor>& inputs, const Tensor& R) {
  NoGradGuard no_grad;
  Tensor y = f(inputs);
  PETL_CHECK(y.shape() == R.shape(), "gradcheck: the function's output changed shape from ", shape_str(R.shape()),
             " to ", shape_str(y.shape()));
  return sum(y * R).item();
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opts) {
  for (const Tensor& x : inputs) {
    if (!x.requires_grad()) continue;
    PETL_CHECK(x.dtype() == DType::F64, "gradcheck: inputs that require a gradient must be float64, got ",
               dtype_name(x.dtype()), " ", shape_str(x.shape()));
    PETL_CHECK(!x.is_cuda(), "gradcheck: inputs must be on the CPU");
    x.zero_grad();
  }
  // Analytic: backward of L = sum(f(x) * R).
  Tensor y = f(inputs);
  Generator gen(opts.seed);
  Tensor R = randn(y.shape(), DType::F64, Device::cpu(), gen);
  backward(sum(mul(y, R)));

  GradcheckResult result;
  std::ostringstream report;
  int failures = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    const Tensor analytic = x.grad();
    for_each_index(x.shape(), [&](const std::vector<int64_t>& index) {
      // Five-point central difference: (-L(x+2h) + 8 L(x+h) - 8 L(x-h) + L(x-2h)) / 12h, whose
      // truncation error is O(h^4), so h can be large enough that rounding stays near 1e-13.
      const double original = x.at(index), h = opts.eps;
      auto at = [&](double delta) {
        x.set(index, original + delta);
        return projected(f, inputs, R);
      };
      const double numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
      x.set(index, original);
      const double a = analytic.defined() ? analytic.at(index) : 0.0;  // no gradient means zero
      const double err = std::abs(a - numeric), scale = std::max(std::abs(a), std::abs(numeric));
      ++result.checked;
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (scale > opts.atol) result.max_rel_error = std::max(result.max_rel_error, err / scale);
      if (err > opts.atol + opts.rtol * scale) {
        result.ok = false;
        if (failures++ < 5) {
          report << "input " << k << " " << shape_str(x.shape()) << " at " << shape_str(index) << ": analytic " << a
                 << ", numeric " << numeric << "\n";
        }
      }
    });
  }
  result.report = report.str();
  return result;
}

}  // namespace petl

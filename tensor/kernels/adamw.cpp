// The fused AdamW update's argument checks (see kernels.h and nn/adamw.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

void adamw_step_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWStep& step) {
  check_floating(param, "adamw_step");
  for (const Tensor* t : {&grad, &m, &v}) {
    check_compatible(param, *t, "adamw_step");
    check_same_shape(param, *t, "adamw_step");
  }
  // param, m and v are written in place, so they must be the whole of their own storage's view.
  for (const Tensor* t : {&param, &m, &v})
    PETL_CHECK(t->is_contiguous(), "adamw_step: parameter and state must be contiguous, got strides of shape ",
               shape_str(t->shape()));
  if (param.numel() == 0) return;
  backend_for(param.device()).adamw_step(param, contiguous(grad), m, v, step);
  param.bump_version();
  m.bump_version();
  v.bump_version();
}

}  // namespace petl::kernel

// Argument checks shared by the raw ops of tensor/kernels/*.cpp: each names the op and what it
// got. Internal to tensor/kernels/.
#pragma once
#include "tensor/kernels.h"

namespace petl::kernel::detail {

inline void check_defined(const Tensor& t, const char* op, const char* what) {
  PETL_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

// Same dtype and device, the op's name and both shapes in the message otherwise.
inline void check_compatible(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op, "first operand");
  check_defined(b, op, "second operand");
  PETL_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch, ", dtype_name(a.dtype()), " ", shape_str(a.shape()),
             " vs ", dtype_name(b.dtype()), " ", shape_str(b.shape()));
  PETL_CHECK(a.device() == b.device(), op, ": device mismatch, ", a.device().str(), " ", shape_str(a.shape()),
             " vs ", b.device().str(), " ", shape_str(b.shape()));
}

inline void check_floating(const Tensor& t, const char* op) {
  check_defined(t, op, "input");
  PETL_CHECK(is_floating(t.dtype()), op, ": expected a floating tensor, got ", dtype_name(t.dtype()), " ",
             shape_str(t.shape()));
}

inline void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  PETL_CHECK(a.shape() == b.shape(), op, ": shape mismatch, ", shape_str(a.shape()), " vs ", shape_str(b.shape()));
}

inline Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

}  // namespace petl::kernel::detail

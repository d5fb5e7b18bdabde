// Elementwise ops on strided, broadcast operands, and their local derivatives.
#include <cmath>

#include "tensor/cpu/backend.h"
#include "tensor/elementwise_math.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {
using elementwise::apply_binary;
template <class T>
T apply_unary(UnaryOp op, T x, T p) { return elementwise::apply_unary<elementwise::StdMath>(op, x, p); }
template <class T>
T unary_derivative(UnaryOp op, T x, T y, T p) { return elementwise::unary_derivative<elementwise::StdMath>(op, x, y, p); }
}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, double param, const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T p = T(param);
    cpu::strided_loop<2>(out.shape(), {&out.strides(), &x.strides()},
                         [&](int64_t, auto o) { po[o[0]] = apply_unary(op, px[o[1]], p); });
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param,
                                const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = g.data<T>();
    const T* px = x.data<T>();
    // y is only read by ops whose derivative uses it; others may pass an undefined tensor.
    const bool has_y = y.defined();
    const T* py = has_y ? y.data<T>() : nullptr;
    const Strides& ys = has_y ? y.strides() : x.strides();
    T* po = out.data<T>();
    const T p = T(param);
    cpu::strided_loop<4>(out.shape(), {&out.strides(), &g.strides(), &x.strides(), &ys}, [&](int64_t, auto o) {
      const T xv = px[o[2]];
      const T yv = has_y ? py[o[3]] : apply_unary(op, xv, p);
      po[o[0]] = pg[o[1]] * unary_derivative(op, xv, yv, p);
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), binary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    if (cpu::all_contiguous(out.shape(), {&a.strides(), &b.strides()})) {
      const int64_t n = out.numel();
#pragma omp parallel for simd if (n >= cpu::kParallelGrain)
      for (int64_t i = 0; i < n; ++i) po[i] = apply_binary(op, pa[i], pb[i]);
      return;
    }
    cpu::strided_loop<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()},
                         [&](int64_t, auto o) { po[o[0]] = apply_binary(op, pa[o[1]], pb[o[2]]); });
  });
}

void CpuBackend::masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  dispatch_float(x.dtype(), "masked_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T v = T(value);
    dispatch_all(mask.dtype(), "masked_fill", [&](auto mask_tag) {
      using M = typename decltype(mask_tag)::type;
      const M* pm = mask.data<M>();
      cpu::strided_loop<3>(out.shape(), {&out.strides(), &x.strides(), &mask.strides()}, [&](int64_t, auto o) {
        po[o[0]] = pm[o[2]] != M(0) ? v : px[o[1]];
      });
    });
  });
}

void CpuBackend::dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  dispatch_float(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T keep_scale = T(1.0 / (1.0 - p));
    cpu::strided_loop<2>(out.shape(), {&out.strides(), &x.strides()}, [&](int64_t i, auto o) {
      const bool keep = petl::random_uniform(seed, offset + uint64_t(i)) >= p;
      po[o[0]] = keep ? px[o[1]] * keep_scale : T(0);
    });
  });
}

}  // namespace petl

// Elementwise ops on strided, broadcast operands and their local derivatives; the same formulas
// as the CPU backend (tensor/cpu/elementwise.cpp).
#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"
#include "tensor/elementwise_math.h"
#include "tensor/random.h"

namespace petl {

namespace {

using elementwise::apply_binary;
template <class T>
__device__ T apply_unary(UnaryOp op, T x, T p) { return elementwise::apply_unary<cuda::DeviceMath>(op, x, p); }
template <class T>
__device__ T unary_derivative(UnaryOp op, T x, T y, T p) {
  return elementwise::unary_derivative<cuda::DeviceMath>(op, x, y, p);
}

// Operand order in every functor: 0 = out, then the inputs.
template <class T>
struct UnaryFn {
  UnaryOp op;
  T* out;
  const T* x;
  T p;
  __device__ void operator()(int64_t, const int64_t (&off)[2]) const { out[off[0]] = apply_unary(op, x[off[1]], p); }
};

template <class T>
struct UnaryBackwardFn {
  UnaryOp op;
  T* out;
  const T* g;
  const T* x;
  const T* y;  // null: recompute y = f(x)
  T p;
  __device__ void operator()(int64_t, const int64_t (&off)[4]) const {
    const T xv = x[off[2]];
    const T yv = y ? y[off[3]] : apply_unary(op, xv, p);
    out[off[0]] = g[off[1]] * unary_derivative(op, xv, yv, p);
  }
};

template <class T>
struct BinaryFn {
  BinaryOp op;
  T* out;
  const T* a;
  const T* b;
  __device__ void operator()(int64_t, const int64_t (&off)[3]) const {
    out[off[0]] = apply_binary(op, a[off[1]], b[off[2]]);
  }
};

template <class T, class M>
struct MaskedFillFn {
  T* out;
  const T* x;
  const M* mask;
  T value;
  __device__ void operator()(int64_t, const int64_t (&off)[3]) const {
    out[off[0]] = mask[off[2]] != M(0) ? value : x[off[1]];
  }
};

// keep_i = uniform(seed, offset + i) >= p with i the row-major index: the CPU's mask, bit for bit.
template <class T>
struct DropoutFn {
  T* out;
  const T* x;
  double p;
  T keep_scale;
  uint64_t seed, offset;
  __device__ void operator()(int64_t i, const int64_t (&off)[2]) const {
    const bool keep = petl::random_uniform(seed, offset + uint64_t(i)) >= p;
    out[off[0]] = keep ? x[off[1]] * keep_scale : T(0);
  }
};

template <class T, class M>
void masked_fill_typed(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  cuda::launch_strided<3>("masked_fill", cuda::context_of(out), out.shape(),
                          {&out.strides(), &x.strides(), &mask.strides()},
                          MaskedFillFn<T, M>{out.data<T>(), x.data<T>(), mask.data<M>(), T(value)});
}

}  // namespace

void CudaBackend::unary(UnaryOp op, const Tensor& x, double param, const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    cuda::launch_strided<2>(unary_op_name(op), cuda::context_of(out), out.shape(), {&out.strides(), &x.strides()},
                            UnaryFn<T>{op, out.data<T>(), x.data<T>(), T(param)});
  });
}

void CudaBackend::unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param,
                                 const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const bool has_y = y.defined();
    const Strides& ys = has_y ? y.strides() : x.strides();
    cuda::launch_strided<4>(unary_op_name(op), cuda::context_of(out), out.shape(),
                            {&out.strides(), &g.strides(), &x.strides(), &ys},
                            UnaryBackwardFn<T>{op, out.data<T>(), g.data<T>(), x.data<T>(),
                                               has_y ? y.data<T>() : nullptr, T(param)});
  });
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), binary_op_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    cuda::launch_strided<3>(binary_op_name(op), cuda::context_of(out), out.shape(),
                            {&out.strides(), &a.strides(), &b.strides()},
                            BinaryFn<T>{op, out.data<T>(), a.data<T>(), b.data<T>()});
  });
}

void CudaBackend::masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  dispatch_float(x.dtype(), "masked_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_all(mask.dtype(), "masked_fill", [&](auto mask_tag) {
      using M = typename decltype(mask_tag)::type;
      masked_fill_typed<T, M>(x, mask, value, out);
    });
  });
}

void CudaBackend::dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  dispatch_float(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cuda::launch_strided<2>("dropout", cuda::context_of(out), out.shape(), {&out.strides(), &x.strides()},
                            DropoutFn<T>{out.data<T>(), x.data<T>(), p, T(1.0 / (1.0 - p)), seed, offset});
  });
}

}  // namespace petl

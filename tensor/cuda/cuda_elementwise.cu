// Elementwise ops on strided, broadcast operands and their local derivatives; the same formulas
// as the CPU backend (tensor/cpu/elementwise.cpp).
#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/cuda_math.cuh"
#include "tensor/cuda/cuda_strided.cuh"
#include "tensor/random.h"

namespace petl {

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;     // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

template <class T>
__device__ T apply_unary(UnaryOp op, T x, T p) {
  using namespace cuda;
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return dexp(x);
    case UnaryOp::Log: return dlog(x);
    case UnaryOp::Sqrt: return dsqrt(x);
    case UnaryOp::Tanh: return dtanh(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::GeluTanh:  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      return T(0.5) * x * (T(1) + dtanh(T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x)));
    case UnaryOp::GeluErf:  // x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
      return T(0.5) * x * (T(1) + derf(x * T(kInvSqrt2)));
    case UnaryOp::Pow: return dpow(x, p);
  }
  return x;
}

// d f(x) / dx given x and y = f(x).
template <class T>
__device__ T unary_derivative(UnaryOp op, T x, T y, T p) {
  using namespace cuda;
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::GeluTanh: {  // 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx,  du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      const T t = dtanh(u);
      const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    case UnaryOp::GeluErf:  // Phi(x) + x phi(x)
      return T(0.5) * (T(1) + derf(x * T(kInvSqrt2))) + x * T(kInvSqrt2Pi) * dexp(T(-0.5) * x * x);
    case UnaryOp::Pow: return p * dpow(x, p - T(1));
  }
  return T(0);
}

template <class T>
__device__ T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
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
    switch (mask.dtype()) {
      case DType::F32: return masked_fill_typed<T, float>(x, mask, value, out);
      case DType::F64: return masked_fill_typed<T, double>(x, mask, value, out);
      case DType::I64: return masked_fill_typed<T, int64_t>(x, mask, value, out);
    }
    throw Error(dtype_error("masked_fill", mask.dtype(), "a known dtype"));
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

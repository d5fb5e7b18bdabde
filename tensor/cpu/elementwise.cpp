// Elementwise ops on strided, broadcast operands, and their local derivatives.
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;   // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;      // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;    // 1/sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

template <class T>
T apply_unary(UnaryOp op, T x, T p) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::GeluTanh:  // GPT-2: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x)));
    case UnaryOp::GeluErf:  // x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
      return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
    case UnaryOp::Pow: return std::pow(x, p);
  }
  return x;
}

// d f(x) / dx, given x and y = f(x).
template <class T>
T unary_derivative(UnaryOp op, T x, T y, T p) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::GeluTanh: {
      const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      const T t = std::tanh(u);
      const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    case UnaryOp::GeluErf:  // Phi(x) + x phi(x)
      return T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2))) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    case UnaryOp::Pow: return p * std::pow(x, p - T(1));
  }
  return T(0);
}

template <class T>
T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, double param, const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t p = scalar_t(param);
    cpu::strided_loop<2>(out.shape(), {&out.strides(), &x.strides()},
                         [&](int64_t, auto o) { po[o[0]] = apply_unary(op, px[o[1]], p); });
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param,
                                const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const scalar_t* pg = g.data<scalar_t>();
    const scalar_t* px = x.data<scalar_t>();
    // y is only read by ops whose derivative uses it; others may pass an undefined tensor.
    const bool has_y = y.defined();
    const scalar_t* py = has_y ? y.data<scalar_t>() : nullptr;
    const Strides& ys = has_y ? y.strides() : x.strides();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t p = scalar_t(param);
    cpu::strided_loop<4>(out.shape(), {&out.strides(), &g.strides(), &x.strides(), &ys}, [&](int64_t, auto o) {
      const scalar_t xv = px[o[2]];
      const scalar_t yv = has_y ? py[o[3]] : apply_unary(op, xv, p);
      po[o[0]] = pg[o[1]] * unary_derivative(op, xv, yv, p);
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), binary_op_name(op), [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
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
  dispatch_float(x.dtype(), "masked_fill", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    using value_t = scalar_t;
    const value_t* px = x.data<value_t>();
    value_t* po = out.data<value_t>();
    const value_t v = value_t(value);
    dispatch_all(mask.dtype(), "masked_fill", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
      const scalar_t* pm = mask.data<scalar_t>();
      cpu::strided_loop<3>(out.shape(), {&out.strides(), &x.strides(), &mask.strides()}, [&](int64_t, auto o) {
        po[o[0]] = pm[o[2]] != scalar_t(0) ? v : px[o[1]];
      });
    });
  });
}

void CpuBackend::dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  dispatch_float(x.dtype(), "dropout", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t keep_scale = scalar_t(1.0 / (1.0 - p));
    cpu::strided_loop<2>(out.shape(), {&out.strides(), &x.strides()}, [&](int64_t i, auto o) {
      const bool keep = petl::random_uniform(seed, offset + uint64_t(i)) >= p;
      po[o[0]] = keep ? px[o[1]] * keep_scale : scalar_t(0);
    });
  });
}

}  // namespace petl

// The formulas of the elementwise ops and their derivatives, written once for every backend.
// `Math` supplies exp/log/sqrt/tanh/erf/pow for T: the CPU passes StdMath (below), CUDA passes
// device functions (tensor/cuda/math.cuh), so float code never silently promotes to double.
#pragma once
#include <cmath>

#include "tensor/backend.h"
#include "tensor/random.h"  // PETL_HOST_DEVICE

namespace petl::elementwise {

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;     // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

struct StdMath {
  template <class T> static T exp(T x) { return std::exp(x); }
  template <class T> static T log(T x) { return std::log(x); }
  template <class T> static T sqrt(T x) { return std::sqrt(x); }
  template <class T> static T tanh(T x) { return std::tanh(x); }
  template <class T> static T erf(T x) { return std::erf(x); }
  template <class T> static T pow(T x, T p) { return std::pow(x, p); }
};

template <class Math, class T>
PETL_HOST_DEVICE inline T apply_unary(UnaryOp op, T x, T p) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return Math::exp(x);
    case UnaryOp::Log: return Math::log(x);
    case UnaryOp::Sqrt: return Math::sqrt(x);
    case UnaryOp::Tanh: return Math::tanh(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::GeluTanh:  // GPT-2: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      return T(0.5) * x * (T(1) + Math::tanh(T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x)));
    case UnaryOp::GeluErf:  // x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
      return T(0.5) * x * (T(1) + Math::erf(x * T(kInvSqrt2)));
    case UnaryOp::Pow: return Math::pow(x, p);
  }
  return x;
}

// d f(x) / dx, given x and y = f(x).
template <class Math, class T>
PETL_HOST_DEVICE inline T unary_derivative(UnaryOp op, T x, T y, T p) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::GeluTanh: {  // 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx,  du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      const T t = Math::tanh(u);
      const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    case UnaryOp::GeluErf:  // Phi(x) + x phi(x)
      return T(0.5) * (T(1) + Math::erf(x * T(kInvSqrt2))) + x * T(kInvSqrt2Pi) * Math::exp(T(-0.5) * x * x);
    case UnaryOp::Pow: return p * Math::pow(x, p - T(1));
  }
  return T(0);
}

template <class T>
PETL_HOST_DEVICE inline T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

}  // namespace petl::elementwise

// Element types. float32 is the working type, float64 exists for gradient checks, int64 holds
// token ids, targets and masks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "tensor/error.h"

namespace petl {

enum class DType : uint8_t { F32, F64, I64 };

constexpr std::size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }
constexpr bool is_floating(DType t) { return t != DType::I64; }
constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I64: return "int64";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }

}  // namespace petl

namespace petl {

// Calls f(TypeTag<T>{}) with T the C++ type of the dtype, so one templated body serves every
// type. The one idiom, on every backend:
//   dispatch_float(t.dtype(), "op", [&](auto tag) { using T = typename decltype(tag)::type; ... });
// and when a second dtype is dispatched inside, its tag and type get their own names (mask_tag and
// M, src_tag and S, ...), never a shadowing T. (A function, not a macro, so OpenMP pragmas inside
// the body work.)
template <class T>
struct TypeTag {
  using type = T;
};

// `value` as an int64 element: it must be a whole number in [-2^63, 2^63). NaN, inf, 1e30 or 2.5
// would otherwise be converted with undefined behaviour (in practice INT64_MIN or a truncation).
inline int64_t to_int64_element(double value, const char* op) {
  PETL_CHECK(value >= -9223372036854775808.0 && value < 9223372036854775808.0 && static_cast<double>(static_cast<int64_t>(value)) == value,
             op, ": cannot store ", value, " in an int64 tensor (expected a whole number in [-2^63, 2^63))");
  return static_cast<int64_t>(value);
}

inline std::string dtype_error(const char* op, DType got, const char* expected) {
  return std::string(op) + ": expected " + expected + ", got " + dtype_name(got);
}

template <class F>
decltype(auto) dispatch_float(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::F32: return f(TypeTag<float>{});
    case DType::F64: return f(TypeTag<double>{});
    default: break;
  }
  throw Error(dtype_error(op, dt, "a floating dtype"));
}

template <class F>
decltype(auto) dispatch_all(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::F32: return f(TypeTag<float>{});
    case DType::F64: return f(TypeTag<double>{});
    case DType::I64: return f(TypeTag<int64_t>{});
  }
  throw Error(dtype_error(op, dt, "a known dtype"));
}

}  // namespace petl

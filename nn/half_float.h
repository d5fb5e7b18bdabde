// IEEE 754 binary16 (float16) and bfloat16 to float32. Both are exact: every 16-bit value has a
// float32 equal to it.
//   bfloat16: the top 16 bits of a float32 (sign, 8 exponent bits, 7 mantissa bits).
//   float16:  sign, 5 exponent bits (bias 15), 10 mantissa bits; subnormals when the exponent is 0.
#pragma once
#include <bit>
#include <cstdint>

namespace petl::nn {

inline float bfloat16_to_float(uint16_t bits) { return std::bit_cast<float>(uint32_t(bits) << 16); }

inline float float16_to_float(uint16_t bits) {
  const uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  if (mantissa == 0) return std::bit_cast<float>(sign);  // signed zero
  // Subnormal: value = mantissa * 2^-24; normalize it into float32's wider exponent range.
  int32_t e = 127 - 15 + 1;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --e;
  }
  return std::bit_cast<float>(sign | (uint32_t(e) << 23) | ((mantissa & 0x3FFu) << 13));
}

}  // namespace petl::nn

// Counter-based random numbers: element i of a draw is a pure function of (seed, offset + i).
// The same formula runs on the CPU and in CUDA kernels, so both devices give identical draws, any
// thread can produce any element, and dropout can regenerate its mask in backward instead of
// storing it.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define PETL_HOST_DEVICE __host__ __device__
#else
#define PETL_HOST_DEVICE
#endif

namespace petl {

// SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijective mix with full avalanche.
PETL_HOST_DEVICE inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

PETL_HOST_DEVICE inline uint64_t random_bits(uint64_t seed, uint64_t counter) {
  return mix64(mix64(seed) ^ counter);
}

// Uniform in the open interval (0, 1): 53 random bits, offset by half a step.
PETL_HOST_DEVICE inline double random_uniform(uint64_t seed, uint64_t counter) {
  return (double(random_bits(seed, counter) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller from the uniforms at counters 2i and 2i+1.
PETL_HOST_DEVICE inline double random_normal(uint64_t seed, uint64_t i) {
  const double u1 = random_uniform(seed, 2 * i);
  const double u2 = random_uniform(seed, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// A seed plus a running offset: each draw reserves `n` counters, so consecutive draws differ and a
// run is reproducible from the seed alone.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void manual_seed(uint64_t seed) { seed_ = seed; offset_ = 0; }
  uint64_t reserve(uint64_t n) { uint64_t o = offset_; offset_ += n; return o; }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace petl

// Force-included into the host-compiled copies of petl's .cu files (built by
// tests/cuda_emulation/CMakeLists.txt): CUDA keywords and intrinsics mapped onto the cooperative
// thread emulator of emu_runtime.cpp. __shared__ variables become function statics (one block
// runs at a time); a warp shuffle is a write to a per-thread slot, a warp barrier, a read of the
// partner's slot and another barrier. Testing only.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <cuda_runtime.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __shared__ static
#define __syncthreads() ::emu::syncthreads()
#define __shfl_xor_sync(mask, v, off) ::emu::shfl_xor((v), (off), (mask))

extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
using std::max;
using std::min;

namespace emu {
void syncthreads();
void warp_barrier();
unsigned linear_tid();
unsigned char* dynamic_smem();
unsigned char* shfl_slots();  // 8 bytes per thread
template <class T>
T shfl_xor(T v, int offset, unsigned mask) {
  if (mask != 0xffffffffu) { fprintf(stderr, "emu: partial shuffle mask\n"); abort(); }
  T* slots = reinterpret_cast<T*>(shfl_slots());
  const unsigned t = linear_tid();
  slots[t] = v;
  warp_barrier();
  const unsigned partner = (t & ~31u) | ((t & 31u) ^ unsigned(offset));
  T r = slots[partner];
  warp_barrier();
  return r;
}
struct LaunchConfig {
  dim3 grid, block;
  size_t smem;
  LaunchConfig(dim3 g, dim3 b, size_t s = 0, cudaStream_t = nullptr) : grid(g), block(b), smem(s) {}
};
void run_grid(const void* fn, const LaunchConfig& cfg, const std::function<void()>& body);
template <class... P, class... A>
void launch(void (*kernel)(P...), const LaunchConfig& cfg, A... args) {
  run_grid(reinterpret_cast<const void*>(kernel), cfg, [=] { kernel(args...); });
}
}  // namespace emu

inline double atomicAdd(double* p, double v) { double o = *p; *p = o + v; return o; }
inline float atomicAdd(float* p, float v) { float o = *p; *p = o + v; return o; }
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  unsigned long long o = *p; if (v < o) *p = v; return o;
}

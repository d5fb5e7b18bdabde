// Device math shared by the kernels: float/double overloads that name the exact CUDA function
// used (so float code never silently promotes to double), warp and block reductions.
#pragma once
#include <cstdint>
#include <limits>

namespace petl::cuda {

__device__ __forceinline__ float dexp(float x) { return expf(x); }
__device__ __forceinline__ double dexp(double x) { return exp(x); }
__device__ __forceinline__ float dlog(float x) { return logf(x); }
__device__ __forceinline__ double dlog(double x) { return log(x); }
__device__ __forceinline__ float dsqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double dsqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float dtanh(float x) { return tanhf(x); }
__device__ __forceinline__ double dtanh(double x) { return tanh(x); }
__device__ __forceinline__ float derf(float x) { return erff(x); }
__device__ __forceinline__ double derf(double x) { return erf(x); }
__device__ __forceinline__ float dpow(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double dpow(double x, double p) { return pow(x, p); }

// The Math policy of tensor/elementwise_math.h for device code.
struct DeviceMath {
  template <class T> __device__ static T exp(T x) { return dexp(x); }
  template <class T> __device__ static T log(T x) { return dlog(x); }
  template <class T> __device__ static T sqrt(T x) { return dsqrt(x); }
  template <class T> __device__ static T tanh(T x) { return dtanh(x); }
  template <class T> __device__ static T erf(T x) { return derf(x); }
  template <class T> __device__ static T pow(T x, T p) { return dpow(x, p); }
};

template <class T>
__device__ __forceinline__ T neg_infinity() {
  return -std::numeric_limits<T>::infinity();
}

// The larger of a and b; a NaN on either side is the result (the CPU's nan_max in
// tensor/cpu/reduce.cpp, and torch.amax), so max([1, NaN, 2]) is NaN on both backends.
template <class T>
__device__ __forceinline__ T max_of(T a, T b) {
  return (a < b || b != b) ? b : a;  // NaN on either side wins, as in torch.amax
}

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return max_of(a, b); }
};

// Butterfly over the 32 lanes: every lane ends with the reduction of all 32 values.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Reduction over the whole block; every thread gets the result. blockDim.x must be a multiple of
// 32 (at most 1024), blockDim.y == blockDim.z == 1, and every thread of the block must call it.
// `shared` holds 32 values; the leading barrier lets a block call this repeatedly with the same buffer.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, Op op, T identity, T* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : identity;
  return warp_reduce(v, op);
}

template <class T>
__device__ __forceinline__ T block_sum(T v, T* shared) {
  return block_reduce(v, SumOp{}, T(0), shared);
}
template <class T>
__device__ __forceinline__ T block_max(T v, T* shared) {
  return block_reduce(v, MaxOp{}, neg_infinity<T>(), shared);
}

// For one block per row: m = max_j x_j and sum = sum_j exp(x_j - m), known to every thread
// (the stable log-sum-exp is m + log(sum)). Every thread of the block must call it.
template <class T>
__device__ __forceinline__ void block_row_max_sumexp(const T* xr, int64_t n, T* shared, T& m, T& sum) {
  m = neg_infinity<T>();
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = max_of(m, xr[j]);
  m = block_max(m, shared);
  sum = T(0);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += dexp(xr[j] - m);
  sum = block_sum(sum, shared);
}

// Threads per block for one-block-per-row kernels: a power of two in [32, cap] covering n.
inline int row_threads(int64_t n, int cap) {
  int t = 32;
  while (t < cap && t < n) t *= 2;
  return t;
}

}  // namespace petl::cuda

// Row-wise softmax and log-softmax over the last axis of a contiguous [rows, n] tensor, one block
// per row (the same formulas as tensor/cpu/softmax.cpp):
//   softmax:      y_j = exp(x_j - m) / sum_k exp(x_k - m),  m = max_k x_k
//   log-softmax:  y_j = x_j - (m + log sum_k exp(x_k - m))
// Backward:       softmax:     dx = y * (g - sum(g * y))
//                 log-softmax: dx = g - exp(y) * sum(g)
#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

template <class T>
__global__ void softmax_kernel(const T* x, int64_t rows, int64_t n, bool log, T* y) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {  // uniform per block
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T m, sum;
    cuda::block_row_max_sumexp(xr, n, shared, m, sum);
    if (log) {
      const T shift = m + cuda::dlog(sum);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - shift;
    } else {
      const T inv = T(1) / sum;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = cuda::dexp(xr[j] - m) * inv;
    }
  }
}

template <class T>
__global__ void softmax_backward_kernel(const T* g, const T* y, int64_t rows, int64_t n, bool log, T* dx) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* gr = g + r * n;
    const T* yr = y + r * n;
    T* dr = dx + r * n;
    T dot = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) dot += log ? gr[j] : gr[j] * yr[j];
    dot = cuda::block_sum(dot, shared);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
      dr[j] = log ? gr[j] - cuda::dexp(yr[j]) * dot : yr[j] * (gr[j] - dot);
  }
}

}  // namespace

void CudaBackend::softmax(const Tensor& x, bool log, const Tensor& out) {
  const int64_t n = x.shape().back();
  if (x.numel() == 0 || n == 0) return;
  const int64_t rows = x.numel() / n;
  dispatch_float(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(out);
    softmax_kernel<T><<<cuda::grid_for(rows, 1, ctx), cuda::row_threads(n, 512), 0, ctx.stream>>>(x.data<T>(), rows, n, log,
                                                                                         out.data<T>());
    PETL_CUDA_CHECK_LAUNCH("softmax");
  });
}

void CudaBackend::softmax_backward(const Tensor& g, const Tensor& y, bool log, const Tensor& out) {
  const int64_t n = y.shape().back();
  if (y.numel() == 0 || n == 0) return;
  const int64_t rows = y.numel() / n;
  dispatch_float(y.dtype(), "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(out);
    softmax_backward_kernel<T><<<cuda::grid_for(rows, 1, ctx), cuda::row_threads(n, 512), 0, ctx.stream>>>(
        g.data<T>(), y.data<T>(), rows, n, log, out.data<T>());
    PETL_CUDA_CHECK_LAUNCH("softmax_backward");
  });
}

}  // namespace petl

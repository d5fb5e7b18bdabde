// Layer normalization over the last axis, one block per row (formulas of tensor/cpu/layer_norm.cpp):
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = gamma * xhat + beta
// Backward, with dxhat = g * gamma:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   dgamma = sum_rows g * xhat,   dbeta = sum_rows g   (column sums through CudaBackend::reduce)
#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

template <class T>
__global__ void layer_norm_kernel(const T* x, const T* gamma, const T* beta, int64_t rows, int64_t n, T eps, T* y,
                                  T* mean, T* rstd) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {  // uniform per block
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T sum = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += xr[j];
    const T mu = cuda::block_sum(sum, shared) / T(n);
    T var = 0;  // two passes (sum of squared deviations), as on the CPU: no cancellation
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) var += (xr[j] - mu) * (xr[j] - mu);
    var = cuda::block_sum(var, shared);
    const T rs = T(1) / cuda::dsqrt(var / T(n) + eps);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const T xhat = (xr[j] - mu) * rs;
      yr[j] = (gamma ? gamma[j] * xhat : xhat) + (beta ? beta[j] : T(0));
    }
    if (threadIdx.x == 0) {
      mean[r] = mu;
      rstd[r] = rs;
    }
  }
}

template <class T>
__global__ void layer_norm_dx_kernel(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd,
                                     int64_t rows, int64_t n, T* dx) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* gr = g + r * n;
    const T* xr = x + r * n;
    const T mu = mean[r], rs = rstd[r];
    T a = 0, b = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const T dxhat = gamma ? gr[j] * gamma[j] : gr[j];
      a += dxhat;
      b += dxhat * (xr[j] - mu) * rs;
    }
    const T mean_dxhat = cuda::block_sum(a, shared) / T(n);
    const T mean_dxhat_xhat = cuda::block_sum(b, shared) / T(n);
    T* dr = dx + r * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const T dxhat = gamma ? gr[j] * gamma[j] : gr[j];
      dr[j] = rs * (dxhat - mean_dxhat - (xr[j] - mu) * rs * mean_dxhat_xhat);
    }
  }
}

// gx[r, j] = g[r, j] * xhat[r, j]: the terms of dgamma before the column sum.
template <class T>
__global__ void layer_norm_gxhat_kernel(const T* g, const T* x, const T* mean, const T* rstd, int64_t rows, int64_t n,
                                        T* gx) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * n; i += step) {
    const int64_t r = i / n;
    gx[i] = g[i] * (x[i] - mean[r]) * rstd[r];
  }
}

}  // namespace

void CudaBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                             const Tensor& mean, const Tensor& rstd) {
  const int64_t n = x.shape().back();
  if (x.numel() == 0 || n == 0) return;
  const int64_t rows = x.numel() / n;
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(y);
    layer_norm_kernel<T><<<cuda::grid_for(rows, 1, ctx), cuda::row_threads(n, 512), 0, ctx.stream>>>(
        x.data<T>(), gamma.defined() ? gamma.data<T>() : nullptr, beta.defined() ? beta.data<T>() : nullptr, rows, n,
        T(eps), y.data<T>(), mean.data<T>(), rstd.data<T>());
    PETL_CUDA_CHECK_LAUNCH("layer_norm");
  });
}

void CudaBackend::layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                      const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                      const Tensor& dbeta) {
  const int64_t n = x.shape().back();
  const int64_t rows = n ? x.numel() / n : 0;
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(x);
    if (dx.defined() && rows * n > 0) {
      layer_norm_dx_kernel<T><<<cuda::grid_for(rows, 1, ctx), cuda::row_threads(n, 512), 0, ctx.stream>>>(
          g.data<T>(), x.data<T>(), gamma.defined() ? gamma.data<T>() : nullptr, mean.data<T>(), rstd.data<T>(), rows,
          n, dx.data<T>());
      PETL_CUDA_CHECK_LAUNCH("layer_norm_dx");
    }
    if (dgamma.defined()) {
      if (rows * n > 0) {
        Tensor gx = Tensor::empty({rows, n}, x.dtype(), x.device());
        layer_norm_gxhat_kernel<T><<<cuda::grid_for(rows * n, 256, ctx), 256, 0, ctx.stream>>>(
            g.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(), rows, n, gx.data<T>());
        PETL_CUDA_CHECK_LAUNCH("layer_norm_gxhat");
        reduce(ReduceOp::Sum, gx, 1, rows, n, dgamma);
      } else {
        fill(dgamma, 0.0);
      }
    }
    if (dbeta.defined()) {
      if (rows * n > 0) reduce(ReduceOp::Sum, g, 1, rows, n, dbeta);
      else fill(dbeta, 0.0);
    }
  });
}

}  // namespace petl

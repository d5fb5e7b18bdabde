// Cross-entropy over logits [N, V], one block per row (formulas of tensor/cpu/cross_entropy.cpp):
//   loss_i = logsumexp(x_i) - x_i[t_i]        (rows with t_i == ignore_index contribute nothing)
//   dloss_i / dx_i = softmax(x_i) - onehot(t_i)
// The loss sum is accumulated in double (as the CPU does) with one atomicAdd per kept row.
#include <limits>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

template <class T>
__global__ void cross_entropy_kernel(const T* x, const int64_t* targets, int64_t rows, int64_t n, int64_t ignore_index,
                                     T* lse, double* total) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {  // uniform per block
    const T* xr = x + r * n;
    T m, sum;
    cuda::block_row_max_sumexp(xr, n, shared, m, sum);
    if (threadIdx.x == 0) {
      const T l = m + cuda::dlog(sum);
      lse[r] = l;
      const int64_t t = targets[r];
      if (t != ignore_index) {
        // Targets are range-checked on the host (kernel::cross_entropy); never read outside the row.
        const double contribution = t >= 0 && t < n ? double(l - xr[t]) : std::numeric_limits<double>::quiet_NaN();
        atomicAdd(total, contribution);
      }
    }
  }
}

template <class T>
__global__ void store_total_kernel(const double* total, T* loss_sum) {
  *loss_sum = T(*total);
}

template <class T>
__global__ void cross_entropy_backward_kernel(const T* x, const int64_t* targets, const T* lse, int64_t lse_stride,
                                              int64_t rows, int64_t n, int64_t ignore_index, T scale, T* dx) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * n; i += step) {
    const int64_t r = i / n, j = i % n;
    const int64_t t = targets[r];
    if (t == ignore_index) {
      dx[i] = T(0);
      continue;
    }
    T v = scale * cuda::dexp(x[i] - lse[r * lse_stride]);
    if (j == t) v -= scale;
    dx[i] = v;
  }
}

}  // namespace

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                const Tensor& loss_sum, const Tensor& lse) {
  const int64_t rows = logits.size(0), n = logits.size(1);
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(logits);
    Tensor total = Tensor::empty({}, DType::F64, logits.device());
    PETL_CUDA_CHECK(cudaMemsetAsync(total.raw_data(), 0, sizeof(double), ctx.stream));
    if (rows > 0 && n > 0) {
      cross_entropy_kernel<T><<<cuda::grid_for(rows, 1, ctx), cuda::row_threads(n, 512), 0, ctx.stream>>>(
          logits.data<T>(), targets.data<int64_t>(), rows, n, ignore_index, lse.data<T>(), total.data<double>());
      PETL_CUDA_CHECK_LAUNCH("cross_entropy");
    }
    store_total_kernel<T><<<1, 1, 0, ctx.stream>>>(total.data<double>(), loss_sum.data<T>());
    PETL_CUDA_CHECK_LAUNCH("cross_entropy_total");
  });
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                                         int64_t ignore_index, double scale, const Tensor& dlogits) {
  const int64_t rows = logits.size(0), n = logits.size(1);
  if (rows * n == 0) return;
  PETL_CHECK(lse.dim() == 1 && lse.size(0) == rows && lse.dtype() == logits.dtype() && lse.device() == logits.device(),
             "cross_entropy_backward: lse must be ", dtype_name(logits.dtype()), " [", rows, "] on ",
             logits.device().str(), ", got ", dtype_name(lse.dtype()), " ", shape_str(lse.shape()), " on ",
             lse.device().str());
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(dlogits);
    cross_entropy_backward_kernel<T><<<cuda::grid_for(rows * n, 256, ctx), 256, 0, ctx.stream>>>(
        logits.data<T>(), targets.data<int64_t>(), lse.data<T>(), lse.strides()[0], rows, n, ignore_index, T(scale),
        dlogits.data<T>());
    PETL_CUDA_CHECK_LAUNCH("cross_entropy_backward");
  });
}

}  // namespace petl

// Embedding lookup (a gather of rows) and its gradient (a scatter-add of rows with atomicAdd).
//
// Ids are validated on the device: a thread that meets an id outside [0, V) skips the access and
// records its position with atomicMin; the host reads that flag back (one small copy and a
// stream sync per call) and throws the CPU backend's error for the first bad position.
#include <cstdint>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

constexpr unsigned long long kNoBadId = ~0ull;

template <class T>
__global__ void embedding_kernel(const T* weight, const int64_t* ids, int64_t n, int64_t vocab, int64_t dim, T* out,
                                 unsigned long long* bad) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n * dim; i += step) {
    const int64_t pos = i / dim, col = i % dim;
    const int64_t id = ids[pos];
    if (id < 0 || id >= vocab) {
      atomicMin(bad, static_cast<unsigned long long>(pos));
      out[i] = T(0);
      continue;
    }
    out[i] = weight[id * dim + col];
  }
}

template <class T>
__global__ void embedding_backward_kernel(const T* g, const int64_t* ids, int64_t n, int64_t vocab, int64_t dim,
                                          T* dweight, unsigned long long* bad) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n * dim; i += step) {
    const int64_t pos = i / dim, col = i % dim;
    const int64_t id = ids[pos];
    if (id < 0 || id >= vocab) {
      atomicMin(bad, static_cast<unsigned long long>(pos));
      continue;
    }
    atomicAdd(dweight + id * dim + col, g[i]);  // repeated ids add up
  }
}

// Reads the flag back; throws naming the first out-of-range id.
void check_bad_id(const cuda::Context& ctx, const Tensor& flag, const Tensor& ids, int64_t vocab, const char* op) {
  unsigned long long pos = kNoBadId;
  PETL_CUDA_CHECK(cudaMemcpyAsync(&pos, flag.raw_data(), sizeof(pos), cudaMemcpyDeviceToHost, ctx.stream));
  PETL_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  if (pos == kNoBadId) return;
  int64_t id = 0;
  PETL_CUDA_CHECK(cudaMemcpyAsync(&id, ids.data<int64_t>() + pos, sizeof(id), cudaMemcpyDeviceToHost, ctx.stream));
  PETL_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  throw Error(detail::concat(op, ": id ", id, " at position ", pos, " is outside [0, ", vocab, ")"));
}

// Runs launch(ctx, bad) with `bad` a fresh device flag (kNoBadId) that the kernel lowers to the
// first position holding an out-of-range id, then reads it back: throws naming that id.
template <class Launch>
void with_id_check(const char* op, const Tensor& ids, int64_t vocab, const Tensor& target, Launch&& launch) {
  const cuda::Context& ctx = cuda::context_of(target);
  Tensor flag = Tensor::empty({1}, DType::I64, target.device());
  PETL_CUDA_CHECK(cudaMemsetAsync(flag.raw_data(), 0xFF, sizeof(unsigned long long), ctx.stream));  // kNoBadId
  launch(ctx, static_cast<unsigned long long*>(flag.raw_data()));
  PETL_CUDA_CHECK_LAUNCH(op);
  check_bad_id(ctx, flag, ids, vocab, op);
}

}  // namespace

void CudaBackend::embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  const int64_t vocab = weight.size(0), dim = weight.size(1), n = ids.numel();
  if (n * dim == 0) return;
  dispatch_float(weight.dtype(), "embedding", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_id_check("embedding", ids, vocab, out, [&](const cuda::Context& ctx, unsigned long long* bad) {
      embedding_kernel<T><<<cuda::grid_for(n * dim, 256, ctx), 256, 0, ctx.stream>>>(
          weight.data<T>(), ids.data<int64_t>(), n, vocab, dim, out.data<T>(), bad);
    });
  });
}

void CudaBackend::embedding_backward(const Tensor& g, const Tensor& ids, const Tensor& dweight) {
  const int64_t vocab = dweight.size(0), dim = dweight.size(1), n = ids.numel();
  if (n * dim == 0) return;
  dispatch_float(g.dtype(), "embedding_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_id_check("embedding_backward", ids, vocab, dweight, [&](const cuda::Context& ctx, unsigned long long* bad) {
      embedding_backward_kernel<T><<<cuda::grid_for(n * dim, 256, ctx), 256, 0, ctx.stream>>>(
          g.data<T>(), ids.data<int64_t>(), n, vocab, dim, dweight.data<T>(), bad);
    });
  });
}

}  // namespace petl

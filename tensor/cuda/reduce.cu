// Sum / mean / max over the middle axis of a contiguous [outer, reduced, inner] block, and the
// amax backward.
//
// inner == 1: a block reduces a contiguous run of a row (threads stride over it, then a block
// reduction). inner > 1: a 32 x 8 block covers 32 adjacent columns (coalesced loads) while its 8
// thread rows split the reduced axis, then combine in shared memory. When that leaves too few
// blocks to fill the GPU (a long reduction into few outputs, e.g. a bias gradient), the reduced
// axis is cut into chunks: pass 1 writes partial results [outer, chunks, inner], pass 2 reduces
// the chunks with the same kernels.
#include <algorithm>
#include <limits>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

constexpr int kColThreadsX = 32, kColThreadsY = 8;

template <class T>
__device__ __forceinline__ T combine(bool is_max, T a, T b) {
  return is_max ? cuda::max_of(a, b) : a + b;
}

// out[o * chunks + c] = post * reduce(x[o, c*chunk_len : min((c+1)*chunk_len, reduced)]).
template <class T>
__global__ void reduce_rows_kernel(const T* x, int64_t outer, int64_t reduced, int64_t chunks, int64_t chunk_len,
                                   bool is_max, T post, T* out) {
  __shared__ T shared[32];
  const T init = is_max ? cuda::neg_infinity<T>() : T(0);
  for (int64_t task = blockIdx.x; task < outer * chunks; task += gridDim.x) {  // uniform per block
    const int64_t o = task / chunks, c = task % chunks;
    const int64_t r0 = c * chunk_len, r1 = min(reduced, r0 + chunk_len);
    const T* row = x + o * reduced;
    T acc = init;
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) acc = combine(is_max, acc, row[r]);
    acc = is_max ? cuda::block_max(acc, shared) : cuda::block_sum(acc, shared);
    if (threadIdx.x == 0) out[task] = acc * post;
  }
}

// out[(o * chunks + c) * inner + j] = post * reduce over r in chunk c of x[o, r, j].
template <class T>
__global__ void reduce_cols_kernel(const T* x, int64_t outer, int64_t reduced, int64_t inner, int64_t chunks,
                                   int64_t chunk_len, bool is_max, T post, T* out) {
  __shared__ T tile[kColThreadsY][kColThreadsX + 1];
  const T init = is_max ? cuda::neg_infinity<T>() : T(0);
  const int64_t col_blocks = (inner + kColThreadsX - 1) / kColThreadsX;
  for (int64_t task = blockIdx.x; task < outer * chunks * col_blocks; task += gridDim.x) {  // uniform per block
    const int64_t cb = task % col_blocks, oc = task / col_blocks;
    const int64_t c = oc % chunks, o = oc / chunks;
    const int64_t j = cb * kColThreadsX + threadIdx.x;
    const int64_t r0 = c * chunk_len, r1 = min(reduced, r0 + chunk_len);
    T acc = init;
    if (j < inner)
      for (int64_t r = r0 + threadIdx.y; r < r1; r += kColThreadsY) acc = combine(is_max, acc, x[(o * reduced + r) * inner + j]);
    tile[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && j < inner) {
      T v = tile[0][threadIdx.x];
      for (int y = 1; y < kColThreadsY; ++y) v = combine(is_max, v, tile[y][threadIdx.x]);
      out[oc * inner + j] = v * post;
    }
    __syncthreads();  // the tile is rewritten by the next task
  }
}

// One pass: reduces [outer, reduced, inner] into [outer, chunks, inner].
template <class T>
void reduce_pass(const cuda::Context& ctx, const T* x, int64_t outer, int64_t reduced, int64_t inner, int64_t chunks,
                 bool is_max, T post, T* out) {
  const int64_t chunk_len = chunks > 1 ? (reduced + chunks - 1) / chunks : std::max<int64_t>(reduced, 1);
  const int max_blocks = std::max(ctx.sm_count, 1) * 16;
  if (inner == 1) {
    const int threads = cuda::row_threads(chunk_len, 256);
    const int blocks = int(std::min<int64_t>(outer * chunks, max_blocks));
    reduce_rows_kernel<T><<<blocks, threads, 0, ctx.stream>>>(x, outer, reduced, chunks, chunk_len, is_max, post, out);
    PETL_CUDA_CHECK_LAUNCH("reduce_rows");
  } else {
    const int64_t col_blocks = (inner + kColThreadsX - 1) / kColThreadsX;
    const int blocks = int(std::min<int64_t>(outer * chunks * col_blocks, max_blocks));
    reduce_cols_kernel<T><<<blocks, dim3(kColThreadsX, kColThreadsY), 0, ctx.stream>>>(
        x, outer, reduced, inner, chunks, chunk_len, is_max, post, out);
    PETL_CUDA_CHECK_LAUNCH("reduce_cols");
  }
}

template <class T>
void reduce_typed(ReduceOp op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner, const Tensor& out) {
  const cuda::Context& ctx = cuda::context_of(out);
  const bool is_max = op == ReduceOp::Max;
  // The mean of no elements is NaN (0 * NaN), as on the CPU.
  const T post = op != ReduceOp::Mean ? T(1) : reduced > 0 ? T(1) / T(reduced) : std::numeric_limits<T>::quiet_NaN();
  // Blocks one pass would use, and how many chunks of the reduced axis bring it to ~4 waves.
  const int64_t base_blocks = inner == 1 ? outer : outer * ((inner + kColThreadsX - 1) / kColThreadsX);
  const int64_t target_blocks = int64_t(std::max(ctx.sm_count, 1)) * 4;
  const int64_t min_chunk = inner == 1 ? 2048 : 128;  // elements of the reduced axis per chunk, at least
  int64_t chunks = 1;
  if (base_blocks < target_blocks && reduced >= 2 * min_chunk) {
    chunks = std::min<int64_t>({(target_blocks + base_blocks - 1) / base_blocks, reduced / min_chunk, 1024});
    const int64_t chunk_len = (reduced + chunks - 1) / chunks;
    chunks = (reduced + chunk_len - 1) / chunk_len;  // no empty chunk
  }
  if (chunks == 1) {
    reduce_pass<T>(ctx, x.data<T>(), outer, reduced, inner, 1, is_max, post, out.data<T>());
    return;
  }
  Tensor partial = Tensor::empty({outer, chunks, inner}, x.dtype(), x.device());
  reduce_pass<T>(ctx, x.data<T>(), outer, reduced, inner, chunks, is_max, T(1), partial.data<T>());
  reduce_pass<T>(ctx, partial.data<T>(), outer, chunks, inner, 1, is_max, post, out.data<T>());
  // `partial` returns to the cache here; the next op to reuse it runs after pass 2 on the same stream.
}

// dx = g * [x == max] / (number of elements equal to the max), one thread per output (o, j).
template <class T>
__global__ void max_backward_kernel(const T* g, const T* x, const T* y, int64_t outer, int64_t reduced, int64_t inner,
                                    T* out) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < outer * inner; idx += step) {
    const int64_t o = idx / inner, j = idx % inner;
    const T m = y[idx];
    const T* xs = x + o * reduced * inner + j;
    T* os = out + o * reduced * inner + j;
    int64_t ties = 0;
    for (int64_t r = 0; r < reduced; ++r) ties += xs[r * inner] == m;
    const T share = g[idx] / T(ties > 0 ? ties : 1);
    for (int64_t r = 0; r < reduced; ++r) os[r * inner] = xs[r * inner] == m ? share : T(0);
  }
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner,
                         const Tensor& out) {
  if (outer * inner == 0) return;
  dispatch_float(x.dtype(), "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    reduce_typed<T>(op, x, outer, reduced, inner, out);
  });
}

void CudaBackend::max_backward(const Tensor& g, const Tensor& x, const Tensor& y, int64_t outer, int64_t reduced,
                               int64_t inner, const Tensor& out) {
  if (outer * reduced * inner == 0) return;
  dispatch_float(x.dtype(), "max_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(out);
    const int threads = 256;
    max_backward_kernel<T><<<cuda::grid_for(outer * inner, threads, ctx), threads, 0, ctx.stream>>>(
        g.data<T>(), x.data<T>(), y.data<T>(), outer, reduced, inner, out.data<T>());
    PETL_CUDA_CHECK_LAUNCH("max_backward");
  });
}

}  // namespace petl

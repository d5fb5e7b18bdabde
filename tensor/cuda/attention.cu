// Fused scaled-dot-product attention (FlashAttention: Dao et al. 2022, Algorithms 1 and 2), the
// CPU backend's semantics (tensor/cpu/attention.cpp):
//   S = scale * Q K^T (invisible keys -inf),  P = softmax(S),  O = P V,  lse_i = log sum_j exp(S_ij)
// Key j is visible to query i when key_mask[b, j] != 0 and, if causal, j <= i + (Tk - Tq); a query
// that sees no key gets O_i = 0 and lse_i = -inf.
//
// Forward: one block per (b, h, tile of kRows queries); the block walks the key tiles keeping a
// running max m_i, sum l_i and unnormalized O_i (online softmax):
//   m' = max(m, max_j S_ij),  l' = l e^{m - m'} + sum_j e^{S_ij - m'},  O' = O e^{m - m'} + sum_j e^{S_ij - m'} V_j
// and writes O_i / l_i and lse_i = m_i + log l_i. Only one [kRows, kRows] tile of P exists at a time.
// Backward recomputes P_ij = exp(S_ij - lse_i) tile by tile, with D_i = rowsum(dO_i * O_i):
//   dV = P^T dO,  dP = dO V^T,  dS = P * (dP - D) * scale,  dQ = dS K,  dK = dS^T Q
// one kernel per query tile for dQ and one per key tile for dK and dV, so no atomics are needed.
//
// Thread layout: kThreads threads per block, kTpr = kThreads / kRows consecutive threads ("a
// group", inside one warp) per tile row. A group computes the scores of its row against the
// other tile's rows (lane, lane + kTpr, ...) and owns the output columns lane, lane + kTpr, ...
// of its row (up to kMaxD = 128 columns in registers).
#include <cmath>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/math.cuh"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

template <class T>
struct Tile {
  static constexpr int kRows = sizeof(T) == 4 ? 64 : 32;  // queries (or keys) per tile
  static constexpr int kThreads = 256;
  static constexpr int kTpr = kThreads / kRows;  // threads per tile row: 4 (float) or 8 (double)
  static constexpr int kMaxD = 128;
  static constexpr int kCols = kMaxD / kTpr;  // output columns per thread
  static constexpr int kPer = kRows / kTpr;   // score entries per thread per tile
  static_assert(32 % kTpr == 0 && kThreads % kRows == 0, "a row's group must sit inside one warp");
};

struct AttnDims {
  int64_t B, H, Tq, Tk, D, Dv;
  int64_t shift;  // Tk - Tq: query i sees keys j <= i + shift when causal
  bool causal;
};

// Reduction over the kTpr lanes of a group (aligned, consecutive lanes of one warp).
template <int kTpr, class T, class Op>
__device__ __forceinline__ T group_reduce(T v, Op op) {
#pragma unroll
  for (int offset = kTpr / 2; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Copies rows [r0, r0 + kRows) of a [rows, cols] row-major matrix into shared memory with row
// stride ld; rows past `rows` become zeros.
template <class T, int kRows, int kThreads>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t r0, int64_t rows, int64_t cols) {
  for (int64_t idx = threadIdx.x; idx < int64_t(kRows) * cols; idx += kThreads) {
    const int64_t r = idx / cols, c = idx % cols;
    dst[r * ld + c] = r0 + r < rows ? src[(r0 + r) * cols + c] : T(0);
  }
}

// acc += w @ tile for this thread's output columns: acc[c] += sum_j w[j] * tile[j][lane + c * kTpr]
// over the kRows rows of a shared-memory tile (row stride ld), for columns below `cols`.
template <class T>
__device__ __forceinline__ void accumulate_row_times_tile(T (&acc)[Tile<T>::kCols], const T* w, const T* tile, int ld,
                                                          int lane, int64_t cols) {
  for (int j = 0; j < Tile<T>::kRows; ++j) {
    const T wj = w[j];
#pragma unroll
    for (int c = 0; c < Tile<T>::kCols; ++c) {
      const int col = lane + c * Tile<T>::kTpr;
      if (col < cols) acc[c] += wj * tile[j * ld + col];
    }
  }
}

// One past the last key any query in [q0, q0 + kRows) may see.
__device__ __forceinline__ int64_t key_end_for(const AttnDims& d, int64_t q0, int rows) {
  if (!d.causal) return d.Tk;
  const int64_t last_query = min(q0 + rows, d.Tq) - 1;
  return max(int64_t(0), min(d.Tk, last_query + d.shift + 1));
}

// ---- forward

template <class T>
__global__ void __launch_bounds__(Tile<T>::kThreads)
    attention_forward_kernel(const T* q, const T* k, const T* v, const T* mask, AttnDims d, T scale, T* out, T* lse) {
  using TL = Tile<T>;
  constexpr int R = TL::kRows, TPR = TL::kTpr;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* smem = reinterpret_cast<T*>(smem_raw);
  const int ldd = int(d.D) + 1, ldv = int(d.Dv) + 1, ldp = R + 1;
  T* Qs = smem;                    // [R][ldd]
  T* Ks = Qs + R * ldd;            // [R][ldd]
  T* Vs = Ks + R * ldd;            // [R][ldv]
  T* Ps = Vs + R * ldv;            // [R][ldp]
  T* visible = Ps + R * ldp;       // [R]: key in range and not masked

  const int64_t q_tiles = (d.Tq + R - 1) / R;
  const int64_t bh = blockIdx.x / q_tiles, b = bh / d.H;
  const int64_t q0 = (blockIdx.x % q_tiles) * R;
  const int row = threadIdx.x / TPR, lane = threadIdx.x % TPR;
  const int64_t i = q0 + row;  // this group's query
  const T* qh = q + bh * d.Tq * d.D;
  const T* kh = k + bh * d.Tk * d.D;
  const T* vh = v + bh * d.Tk * d.Dv;
  const T* mrow = mask ? mask + b * d.Tk : nullptr;

  load_tile<T, R, TL::kThreads>(Qs, ldd, qh, q0, d.Tq, d.D);
  T m = cuda::neg_infinity<T>(), l = T(0);
  T acc[TL::kCols];
#pragma unroll
  for (int c = 0; c < TL::kCols; ++c) acc[c] = T(0);

  const int64_t key_end = key_end_for(d, q0, R);
  for (int64_t k0 = 0; k0 < key_end; k0 += R) {
    __syncthreads();  // the previous tile is consumed (and the Q tile is loaded)
    load_tile<T, R, TL::kThreads>(Ks, ldd, kh, k0, d.Tk, d.D);
    load_tile<T, R, TL::kThreads>(Vs, ldv, vh, k0, d.Tk, d.Dv);
    for (int j = threadIdx.x; j < R; j += TL::kThreads)
      visible[j] = k0 + j < d.Tk && (!mrow || mrow[k0 + j] != T(0)) ? T(1) : T(0);
    __syncthreads();

    // Scores of query i against keys k0 + lane + jj * TPR.
    T s[TL::kPer];
#pragma unroll
    for (int jj = 0; jj < TL::kPer; ++jj) s[jj] = T(0);
    for (int e = 0; e < d.D; ++e) {
      const T qe = Qs[row * ldd + e];
#pragma unroll
      for (int jj = 0; jj < TL::kPer; ++jj) s[jj] += qe * Ks[(lane + jj * TPR) * ldd + e];
    }
    T tile_max = cuda::neg_infinity<T>();
#pragma unroll
    for (int jj = 0; jj < TL::kPer; ++jj) {
      const int64_t key = k0 + lane + jj * TPR;
      const bool vis = i < d.Tq && visible[lane + jj * TPR] != T(0) && (!d.causal || key <= i + d.shift);
      s[jj] = vis ? s[jj] * scale : cuda::neg_infinity<T>();
      tile_max = cuda::max_of(tile_max, s[jj]);
    }
    tile_max = group_reduce<TPR>(tile_max, cuda::MaxOp{});
    const T m_new = cuda::max_of(m, tile_max);
    T corr = T(1), psum = T(0);
    if (m_new == cuda::neg_infinity<T>()) {  // no visible key so far
#pragma unroll
      for (int jj = 0; jj < TL::kPer; ++jj) s[jj] = T(0);
    } else {
      corr = m == cuda::neg_infinity<T>() ? T(0) : cuda::dexp(m - m_new);
#pragma unroll
      for (int jj = 0; jj < TL::kPer; ++jj) {
        s[jj] = s[jj] == cuda::neg_infinity<T>() ? T(0) : cuda::dexp(s[jj] - m_new);
        psum += s[jj];
      }
    }
    psum = group_reduce<TPR>(psum, cuda::SumOp{});
    l = l * corr + psum;
    m = m_new;
#pragma unroll
    for (int jj = 0; jj < TL::kPer; ++jj) Ps[row * ldp + lane + jj * TPR] = s[jj];
    __syncthreads();

    // O_i = O_i * corr + sum_j P_ij V_j over this group's columns.
#pragma unroll
    for (int c = 0; c < TL::kCols; ++c) acc[c] *= corr;
    accumulate_row_times_tile(acc, Ps + row * ldp, Vs, ldv, lane, d.Dv);
  }

  if (i < d.Tq) {
    const T inv = l > T(0) ? T(1) / l : T(0);  // l == 0: the query sees no key, zero output
#pragma unroll
    for (int c = 0; c < TL::kCols; ++c) {
      const int col = lane + c * TPR;
      if (col < d.Dv) out[(bh * d.Tq + i) * d.Dv + col] = acc[c] * inv;
    }
    if (lane == 0) lse[bh * d.Tq + i] = l > T(0) ? m + cuda::dlog(l) : cuda::neg_infinity<T>();
  }
}

// ---- backward

// delta[r] = sum_c dO[r, c] * O[r, c], one warp per row.
template <class T>
__global__ void attention_delta_kernel(const T* g, const T* o, int64_t rows, int64_t dv, T* delta) {
  const int warps_per_block = blockDim.x / 32;
  const int lane = threadIdx.x & 31;
  const int64_t step = int64_t(gridDim.x) * warps_per_block;
  for (int64_t r = int64_t(blockIdx.x) * warps_per_block + threadIdx.x / 32; r < rows; r += step) {  // uniform per warp
    T sum = T(0);
    for (int64_t c = lane; c < dv; c += 32) sum += g[r * dv + c] * o[r * dv + c];
    sum = cuda::warp_reduce(sum, cuda::SumOp{});
    if (lane == 0) delta[r] = sum;
  }
}

// dQ for one query tile: dQ_i += sum_j dS_ij K_j.
template <class T>
__global__ void __launch_bounds__(Tile<T>::kThreads)
    attention_dq_kernel(const T* g, const T* q, const T* k, const T* v, const T* mask, const T* lse, const T* delta,
                        AttnDims d, T scale, T* dq) {
  using TL = Tile<T>;
  constexpr int R = TL::kRows, TPR = TL::kTpr;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* smem = reinterpret_cast<T*>(smem_raw);
  const int ldd = int(d.D) + 1, ldv = int(d.Dv) + 1, lds = R + 1;
  T* Qs = smem;               // [R][ldd]
  T* dOs = Qs + R * ldd;      // [R][ldv]
  T* Ks = dOs + R * ldv;      // [R][ldd]
  T* Vs = Ks + R * ldd;       // [R][ldv]
  T* dSs = Vs + R * ldv;      // [R][lds]
  T* visible = dSs + R * lds; // [R]

  const int64_t q_tiles = (d.Tq + R - 1) / R;
  const int64_t bh = blockIdx.x / q_tiles, b = bh / d.H;
  const int64_t q0 = (blockIdx.x % q_tiles) * R;
  const int row = threadIdx.x / TPR, lane = threadIdx.x % TPR;
  const int64_t i = q0 + row;
  const T* kh = k + bh * d.Tk * d.D;
  const T* vh = v + bh * d.Tk * d.Dv;
  const T* mrow = mask ? mask + b * d.Tk : nullptr;

  load_tile<T, R, TL::kThreads>(Qs, ldd, q + bh * d.Tq * d.D, q0, d.Tq, d.D);
  load_tile<T, R, TL::kThreads>(dOs, ldv, g + bh * d.Tq * d.Dv, q0, d.Tq, d.Dv);
  const T lse_i = i < d.Tq ? lse[bh * d.Tq + i] : cuda::neg_infinity<T>();
  const T delta_i = i < d.Tq ? delta[bh * d.Tq + i] : T(0);
  const bool row_live = lse_i != cuda::neg_infinity<T>();  // false: P_i = 0 (no visible key, or padding)
  T acc[TL::kCols];
#pragma unroll
  for (int c = 0; c < TL::kCols; ++c) acc[c] = T(0);

  const int64_t key_end = key_end_for(d, q0, R);
  for (int64_t k0 = 0; k0 < key_end; k0 += R) {
    __syncthreads();
    load_tile<T, R, TL::kThreads>(Ks, ldd, kh, k0, d.Tk, d.D);
    load_tile<T, R, TL::kThreads>(Vs, ldv, vh, k0, d.Tk, d.Dv);
    for (int j = threadIdx.x; j < R; j += TL::kThreads)
      visible[j] = k0 + j < d.Tk && (!mrow || mrow[k0 + j] != T(0)) ? T(1) : T(0);
    __syncthreads();

    T s[TL::kPer], dp[TL::kPer];
#pragma unroll
    for (int jj = 0; jj < TL::kPer; ++jj) s[jj] = dp[jj] = T(0);
    for (int e = 0; e < d.D; ++e) {
      const T qe = Qs[row * ldd + e];
#pragma unroll
      for (int jj = 0; jj < TL::kPer; ++jj) s[jj] += qe * Ks[(lane + jj * TPR) * ldd + e];
    }
    for (int e = 0; e < d.Dv; ++e) {
      const T ge = dOs[row * ldv + e];
#pragma unroll
      for (int jj = 0; jj < TL::kPer; ++jj) dp[jj] += ge * Vs[(lane + jj * TPR) * ldv + e];
    }
#pragma unroll
    for (int jj = 0; jj < TL::kPer; ++jj) {
      const int j = lane + jj * TPR;
      const int64_t key = k0 + j;
      const bool vis = row_live && visible[j] != T(0) && (!d.causal || key <= i + d.shift);
      const T p = vis ? cuda::dexp(s[jj] * scale - lse_i) : T(0);
      dSs[row * lds + j] = vis ? p * (dp[jj] - delta_i) * scale : T(0);
    }
    __syncthreads();

    accumulate_row_times_tile(acc, dSs + row * lds, Ks, ldd, lane, d.D);
  }

  if (i < d.Tq) {
#pragma unroll
    for (int c = 0; c < TL::kCols; ++c) {
      const int col = lane + c * TPR;
      if (col < d.D) dq[(bh * d.Tq + i) * d.D + col] += acc[c];
    }
  }
}

// dK and dV for one key tile: dV_j += sum_i P_ij dO_i,  dK_j += sum_i dS_ij Q_i.
template <class T>
__global__ void __launch_bounds__(Tile<T>::kThreads)
    attention_dkdv_kernel(const T* g, const T* q, const T* k, const T* v, const T* mask, const T* lse, const T* delta,
                          AttnDims d, T scale, T* dk, T* dv) {
  using TL = Tile<T>;
  constexpr int R = TL::kRows, TPR = TL::kTpr;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* smem = reinterpret_cast<T*>(smem_raw);
  const int ldd = int(d.D) + 1, ldv = int(d.Dv) + 1, ldt = R + 1;
  T* Ks = smem;                 // [R][ldd]  this block's keys
  T* Vs = Ks + R * ldd;         // [R][ldv]
  T* Qs = Vs + R * ldv;         // [R][ldd]  the current query tile
  T* dOs = Qs + R * ldd;        // [R][ldv]
  T* Pt = dOs + R * ldv;        // [R keys][ldt queries]: P^T
  T* dSt = Pt + R * ldt;        // [R keys][ldt queries]: dS^T
  T* lse_s = dSt + R * ldt;     // [R]
  T* delta_s = lse_s + R;       // [R]

  const int64_t k_tiles = (d.Tk + R - 1) / R;
  const int64_t bh = blockIdx.x / k_tiles, b = bh / d.H;
  const int64_t k0 = (blockIdx.x % k_tiles) * R;
  const int row = threadIdx.x / TPR, lane = threadIdx.x % TPR;
  const int64_t j = k0 + row;  // this group's key
  const T* qh = q + bh * d.Tq * d.D;
  const T* gh = g + bh * d.Tq * d.Dv;
  const bool key_live = j < d.Tk && (!mask || mask[b * d.Tk + j] != T(0));

  load_tile<T, R, TL::kThreads>(Ks, ldd, k + bh * d.Tk * d.D, k0, d.Tk, d.D);
  load_tile<T, R, TL::kThreads>(Vs, ldv, v + bh * d.Tk * d.Dv, k0, d.Tk, d.Dv);
  T dk_acc[TL::kCols], dv_acc[TL::kCols];
#pragma unroll
  for (int c = 0; c < TL::kCols; ++c) dk_acc[c] = dv_acc[c] = T(0);

  // Causal: query i sees key j when i >= j - shift, so queries before k0 - shift see none of this tile.
  const int64_t q_begin = d.causal ? min(d.Tq, max(int64_t(0), k0 - d.shift)) : 0;
  for (int64_t q0 = q_begin; q0 < d.Tq; q0 += R) {
    __syncthreads();  // the previous query tile is consumed (and the K, V tiles are loaded)
    load_tile<T, R, TL::kThreads>(Qs, ldd, qh, q0, d.Tq, d.D);
    load_tile<T, R, TL::kThreads>(dOs, ldv, gh, q0, d.Tq, d.Dv);
    for (int r = threadIdx.x; r < R; r += TL::kThreads) {
      const bool in = q0 + r < d.Tq;
      lse_s[r] = in ? lse[bh * d.Tq + q0 + r] : cuda::neg_infinity<T>();
      delta_s[r] = in ? delta[bh * d.Tq + q0 + r] : T(0);
    }
    __syncthreads();

    // Scores of key j against queries q0 + lane + ii * TPR.
    T s[TL::kPer], dp[TL::kPer];
#pragma unroll
    for (int ii = 0; ii < TL::kPer; ++ii) s[ii] = dp[ii] = T(0);
    for (int e = 0; e < d.D; ++e) {
      const T ke = Ks[row * ldd + e];
#pragma unroll
      for (int ii = 0; ii < TL::kPer; ++ii) s[ii] += Qs[(lane + ii * TPR) * ldd + e] * ke;
    }
    for (int e = 0; e < d.Dv; ++e) {
      const T ve = Vs[row * ldv + e];
#pragma unroll
      for (int ii = 0; ii < TL::kPer; ++ii) dp[ii] += dOs[(lane + ii * TPR) * ldv + e] * ve;
    }
#pragma unroll
    for (int ii = 0; ii < TL::kPer; ++ii) {
      const int qi = lane + ii * TPR;
      const int64_t i = q0 + qi;
      const T l = lse_s[qi];
      const bool vis = key_live && l != cuda::neg_infinity<T>() && (!d.causal || j <= i + d.shift);
      const T p = vis ? cuda::dexp(s[ii] * scale - l) : T(0);
      Pt[row * ldt + qi] = p;
      dSt[row * ldt + qi] = vis ? p * (dp[ii] - delta_s[qi]) * scale : T(0);
    }
    __syncthreads();

    for (int qi = 0; qi < R; ++qi) {
      const T p = Pt[row * ldt + qi], ds = dSt[row * ldt + qi];
#pragma unroll
      for (int c = 0; c < TL::kCols; ++c) {
        const int col = lane + c * TPR;
        if (col < d.Dv) dv_acc[c] += p * dOs[qi * ldv + col];
        if (col < d.D) dk_acc[c] += ds * Qs[qi * ldd + col];
      }
    }
  }

  if (j < d.Tk) {
#pragma unroll
    for (int c = 0; c < TL::kCols; ++c) {
      const int col = lane + c * TPR;
      if (dv && col < d.Dv) dv[(bh * d.Tk + j) * d.Dv + col] += dv_acc[c];
      if (dk && col < d.D) dk[(bh * d.Tk + j) * d.D + col] += dk_acc[c];
    }
  }
}

// ---- host side

AttnDims dims_of(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opts) {
  AttnDims d{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), v.size(3), 0, opts.causal};
  d.shift = d.Tk - d.Tq;
  PETL_CHECK(d.D <= Tile<float>::kMaxD && d.Dv <= Tile<float>::kMaxD, "attention: CUDA head dims up to ",
             Tile<float>::kMaxD, " are supported, got D = ", d.D, ", Dv = ", d.Dv);
  return d;
}

double scale_of(const AttnDims& d, const AttentionOptions& opts) {
  return opts.scale != 0.0 ? opts.scale : 1.0 / std::sqrt(double(d.D));
}

// Opts the kernel into `bytes` of dynamic shared memory (past the 48 KiB default) on this device.
template <class Kernel>
void prepare_smem(Kernel kernel, std::size_t bytes, const cuda::Context& ctx, const char* name) {
  PETL_CHECK(bytes <= std::size_t(ctx.max_shared_optin), "attention: ", name, " needs ", bytes,
             " bytes of shared memory per block, the device allows ", ctx.max_shared_optin);
  PETL_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

Tensor dense(CudaBackend& be, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device());
  be.copy(c, t);
  return c;
}

template <class T>
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const AttentionOptions& opts, const Tensor& out, const Tensor& lse) {
  using TL = Tile<T>;
  const AttnDims d = dims_of(q, k, v, opts);
  if (d.B * d.H * d.Tq == 0) return;
  const cuda::Context& ctx = cuda::context_of(q);
  const int R = TL::kRows;
  const std::size_t smem = sizeof(T) * std::size_t(R * (2 * (d.D + 1) + (d.Dv + 1) + (R + 1) + 1));
  prepare_smem(attention_forward_kernel<T>, smem, ctx, "attention_forward");
  const int64_t blocks = d.B * d.H * ((d.Tq + R - 1) / R);
  PETL_CHECK(blocks <= INT32_MAX, "attention: too many (batch, head, query tile) blocks: ", blocks);
  attention_forward_kernel<T><<<unsigned(blocks), TL::kThreads, smem, ctx.stream>>>(
      q.data<T>(), k.data<T>(), v.data<T>(), key_mask.defined() ? key_mask.data<T>() : nullptr, d,
      T(scale_of(d, opts)), out.data<T>(), lse.data<T>());
  PETL_CUDA_CHECK_LAUNCH("attention_forward");
}

template <class T>
void attention_backward_typed(CudaBackend& be, const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                              const Tensor& key_mask, const Tensor& out_in, const Tensor& lse_in,
                              const AttentionOptions& opts, const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  using TL = Tile<T>;
  const AttnDims d = dims_of(q, k, v, opts);
  if (d.B * d.H * d.Tq == 0 || d.Tk == 0) return;  // no query or no key: every gradient stays zero
  const cuda::Context& ctx = cuda::context_of(q);
  const int R = TL::kRows;
  const T scale = T(scale_of(d, opts));
  const Tensor out = dense(be, out_in), lse = dense(be, lse_in);
  const T* mask = key_mask.defined() ? key_mask.data<T>() : nullptr;

  // D_i = rowsum(dO_i * O_i)
  const int64_t rows = d.B * d.H * d.Tq;
  Tensor delta = Tensor::empty({rows}, q.dtype(), q.device());
  const int warps = 8;
  const int delta_blocks = int(std::max<int64_t>(1, std::min<int64_t>((rows + warps - 1) / warps,
                                                                      int64_t(std::max(ctx.sm_count, 1)) * 32)));
  attention_delta_kernel<T><<<delta_blocks, warps * 32, 0, ctx.stream>>>(g.data<T>(), out.data<T>(), rows, d.Dv,
                                                                         delta.data<T>());
  PETL_CUDA_CHECK_LAUNCH("attention_delta");

  if (dq.defined()) {
    const std::size_t smem = sizeof(T) * std::size_t(R * (2 * (d.D + 1) + 2 * (d.Dv + 1) + (R + 1) + 1));
    prepare_smem(attention_dq_kernel<T>, smem, ctx, "attention_backward_dq");
    const int64_t blocks = d.B * d.H * ((d.Tq + R - 1) / R);
    PETL_CHECK(blocks <= INT32_MAX, "attention: too many (batch, head, query tile) blocks: ", blocks);
    attention_dq_kernel<T><<<unsigned(blocks), TL::kThreads, smem, ctx.stream>>>(
        g.data<T>(), q.data<T>(), k.data<T>(), v.data<T>(), mask, lse.data<T>(), delta.data<T>(), d, scale,
        dq.data<T>());
    PETL_CUDA_CHECK_LAUNCH("attention_backward_dq");
  }
  if (dk.defined() || dv.defined()) {
    const std::size_t smem = sizeof(T) * std::size_t(R * (2 * (d.D + 1) + 2 * (d.Dv + 1) + 2 * (R + 1) + 2));
    prepare_smem(attention_dkdv_kernel<T>, smem, ctx, "attention_backward_dkdv");
    const int64_t blocks = d.B * d.H * ((d.Tk + R - 1) / R);
    PETL_CHECK(blocks <= INT32_MAX, "attention: too many (batch, head, key tile) blocks: ", blocks);
    attention_dkdv_kernel<T><<<unsigned(blocks), TL::kThreads, smem, ctx.stream>>>(
        g.data<T>(), q.data<T>(), k.data<T>(), v.data<T>(), mask, lse.data<T>(), delta.data<T>(), d, scale,
        dk.defined() ? dk.data<T>() : nullptr, dv.defined() ? dv.data<T>() : nullptr);
    PETL_CUDA_CHECK_LAUNCH("attention_backward_dkdv");
  }
}

}  // namespace

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                            const AttentionOptions& opts, const Tensor& out, const Tensor& lse) {
  dispatch_float(q.dtype(), "attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    attention_forward<T>(q, k, v, key_mask, opts, out, lse);
  });
}

void CudaBackend::attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                     const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                     const AttentionOptions& opts, const Tensor& dq, const Tensor& dk,
                                     const Tensor& dv) {
  dispatch_float(q.dtype(), "attention_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    attention_backward_typed<T>(*this, g, q, k, v, key_mask, out, lse, opts, dq, dk, dv);
  });
}

}  // namespace petl

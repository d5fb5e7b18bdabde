// Fused scaled-dot-product attention on the CPU, flash-attention style (Dao et al. 2022, "FlashAttention",
// Algorithm 1 forward, Algorithm 2 / FlashAttention-2 backward):
//   S = scale * Q K^T,  P = softmax(S + mask),  O = P V,  lse_i = log sum_j exp(S_ij) (visible j)
// Forward walks the keys in blocks and keeps a running row maximum m and row sum l (online softmax):
//   m' = max(m, max_j S_ij),  l' = l e^(m - m') + sum_j e^(S_ij - m'),  O' = O e^(m - m') + e^(S - m') V
// and at the end O = O' / l', lse = m' + log l'. Backward recomputes P = e^(S - lse) block by block:
//   dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dO * O)),  dQ = scale dS K,  dK = scale dS^T Q
// Only one [kQueryTile, kKeyBlock] score tile (two in backward) exists per thread; key blocks that the
// causal mask hides from every row of a query tile are never computed. The tile products are Eigen
// GEMMs (vectorized for the build's -march); the row passes (max, exp, sums) are Eigen array loops.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/eigen_maps.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

constexpr int64_t kQueryTile = 32;  // query rows per task: one parallel work item in forward
constexpr int64_t kKeyBlock = 256;  // keys per online-softmax step; bounds the score tile

struct AttentionDims {
  int64_t B, H, Tq, Tk, D, Dv;
  double scale;
  bool causal;

  // Query row i sees keys [0, key_end(i)) (before the key mask): under the causal rule j <= i + (Tk - Tq).
  int64_t key_end(int64_t i) const { return causal ? std::clamp<int64_t>(i + Tk - Tq + 1, 0, Tk) : Tk; }
  int64_t query_tiles() const { return (Tq + kQueryTile - 1) / kQueryTile; }
};

AttentionDims dims_of(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opts) {
  AttentionDims d{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), v.size(3), opts.scale, opts.causal};
  if (d.scale == 0.0) d.scale = 1.0 / std::sqrt(double(d.D));
  return d;
}

// Below this much work, starting threads costs more than it saves.
bool worth_threads(const AttentionDims& d, int64_t tasks) {
  return tasks > 1 && double(d.B * d.H) * double(d.Tq) * double(d.Tk) * double(d.D + d.Dv) >= 1 << 18;
}

// The key mask as an additive bias [B, Tk]: 0 where visible, -inf where hidden (empty without a mask).
template <class T>
std::vector<T> mask_bias(const Tensor& key_mask) {
  if (!key_mask.defined()) return {};
  const T* m = key_mask.data<T>();
  std::vector<T> bias(size_t(key_mask.numel()));
  for (size_t j = 0; j < bias.size(); ++j) bias[j] = m[j] != T(0) ? T(0) : -std::numeric_limits<T>::infinity();
  return bias;
}

// One query tile of one (batch, head): rows [i0, i0 + rows) of q, and where its keys and outputs live.
template <class T>
struct QueryTile {
  int64_t i0, rows, key_end;  // key_end: keys past it are hidden from every row of the tile
  const T* bias;              // this batch's [Tk] mask bias, or null
};

template <class T>
QueryTile<T> query_tile(const AttentionDims& d, int64_t b, int64_t qt, const std::vector<T>& bias) {
  const int64_t i0 = qt * kQueryTile, rows = std::min(kQueryTile, d.Tq - i0);
  return {i0, rows, d.key_end(i0 + rows - 1), bias.empty() ? nullptr : bias.data() + b * d.Tk};
}

// Row r of the score tile for keys [j0, j0 + width): scale * S, plus the mask bias. Returns how many
// leading columns the causal rule leaves visible (the rest are not touched).
template <class T>
int64_t scale_row(const AttentionDims& d, const QueryTile<T>& tile, int64_t r, int64_t j0, int64_t width,
                  cpu::RowMap<T>& S) {
  const int64_t visible = std::clamp<int64_t>(d.key_end(tile.i0 + r) - j0, 0, width);
  auto s = S.row(r).head(visible).array();
  if (tile.bias) s = s * T(d.scale) + Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>(tile.bias + j0, visible);
  else s *= T(d.scale);
  return visible;
}

template <class T>
void forward_tile(const AttentionDims& d, const QueryTile<T>& tile, const T* qh, const T* kh, const T* vh,
                  T* oh, T* lse_h, T* scratch) {
  constexpr T neg_inf = -std::numeric_limits<T>::infinity();
  std::array<T, kQueryTile> m, l;  // running row maximum and row sum
  m.fill(neg_inf);
  l.fill(T(0));
  auto O = cpu::rows_of(oh + tile.i0 * d.Dv, tile.rows, d.Dv);
  O.setZero();
  const auto Q = cpu::rows_of(qh + tile.i0 * d.D, tile.rows, d.D);
  for (int64_t j0 = 0; j0 < tile.key_end; j0 += kKeyBlock) {
    const int64_t width = std::min(kKeyBlock, tile.key_end - j0);
    cpu::RowMap<T> S(scratch, tile.rows, width, Eigen::OuterStride<>(width));
    S.noalias() = Q * cpu::rows_of(kh + j0 * d.D, width, d.D).transpose();
    for (int64_t r = 0; r < tile.rows; ++r) {
      const int64_t visible = scale_row(d, tile, r, j0, width, S);
      auto s = S.row(r).head(visible).array();
      const T m_new = visible ? std::max(m[r], s.maxCoeff()) : m[r];
      S.row(r).tail(width - visible).setZero();
      if (m_new == neg_inf) {  // nothing visible yet: P row stays zero, O row stays zero
        S.row(r).head(visible).setZero();
        continue;
      }
      s = (s - m_new).exp();
      const T alpha = std::exp(m[r] - m_new);  // e^(m - m'), 0 on the first visible block
      l[r] = l[r] * alpha + s.sum();
      if (alpha != T(1) && j0 > 0) O.row(r) *= alpha;
      m[r] = m_new;
    }
    O.noalias() += S * cpu::rows_of(vh + j0 * d.Dv, width, d.Dv);
  }
  for (int64_t r = 0; r < tile.rows; ++r) {
    if (l[r] == T(0)) {  // no visible key: zero output (already zero), lse = -inf
      lse_h[tile.i0 + r] = neg_inf;
      continue;
    }
    O.row(r) /= l[r];
    lse_h[tile.i0 + r] = m[r] + std::log(l[r]);
  }
}

}  // namespace

void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                           const AttentionOptions& opts, const Tensor& out, const Tensor& lse) {
  dispatch_float(q.dtype(), "attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const AttentionDims d = dims_of(q, k, v, opts);
    const int64_t tiles = d.query_tiles(), tasks = d.B * d.H * tiles;
    const int threads = worth_threads(d, tasks) ? omp_get_max_threads() : 1;
    Tensor scratch = Tensor::empty({threads, kQueryTile * std::min(kKeyBlock, d.Tk)}, q.dtype());
    const std::vector<T> bias = mask_bias<T>(key_mask);
    const T* pq = q.data<T>();
    const T* pk = k.data<T>();
    const T* pv = v.data<T>();
    T* po = out.data<T>();
    T* plse = lse.data<T>();
    T* pscratch = scratch.data<T>();
    const int64_t scratch_per_thread = scratch.numel() / threads;
    // The longest (last) query tiles of each head first, so dynamic scheduling ends evenly.
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t bh = task / tiles, qt = tiles - 1 - task % tiles;
      forward_tile(d, query_tile(d, bh / d.H, qt, bias), pq + bh * d.Tq * d.D, pk + bh * d.Tk * d.D,
                   pv + bh * d.Tk * d.Dv, po + bh * d.Tq * d.Dv, plse + bh * d.Tq,
                   pscratch + omp_get_thread_num() * scratch_per_thread);
    }
  });
}

namespace {

// Pointers of one (batch, head) for backward; a null gradient is not computed.
template <class T>
struct HeadGrads {
  const T *q, *k, *v, *o, *g, *lse;
  T *dq, *dk, *dv;
};

template <class T>
void backward_tile(const AttentionDims& d, const QueryTile<T>& tile, const HeadGrads<T>& h, T* scratch) {
  constexpr T neg_inf = -std::numeric_limits<T>::infinity();
  const auto Q = cpu::rows_of(h.q + tile.i0 * d.D, tile.rows, d.D);
  const auto dO = cpu::rows_of(h.g + tile.i0 * d.Dv, tile.rows, d.Dv);
  const auto O = cpu::rows_of(h.o + tile.i0 * d.Dv, tile.rows, d.Dv);
  std::array<T, kQueryTile> delta;  // rowsum(dO * O)
  for (int64_t r = 0; r < tile.rows; ++r) delta[r] = dO.row(r).dot(O.row(r));
  const bool need_ds = h.dq || h.dk;
  for (int64_t j0 = 0; j0 < tile.key_end; j0 += kKeyBlock) {
    const int64_t width = std::min(kKeyBlock, tile.key_end - j0);
    cpu::RowMap<T> P(scratch, tile.rows, width, Eigen::OuterStride<>(width));
    cpu::RowMap<T> dS(scratch + tile.rows * width, tile.rows, width, Eigen::OuterStride<>(width));
    const auto K = cpu::rows_of(h.k + j0 * d.D, width, d.D);
    const auto V = cpu::rows_of(h.v + j0 * d.Dv, width, d.Dv);
    P.noalias() = Q * K.transpose();
    for (int64_t r = 0; r < tile.rows; ++r) {
      const T l = h.lse[tile.i0 + r];
      const int64_t visible = l == neg_inf ? 0 : scale_row(d, tile, r, j0, width, P);
      P.row(r).head(visible) = (P.row(r).head(visible).array() - l).exp();
      P.row(r).tail(width - visible).setZero();
    }
    if (h.dv) cpu::rows_of(h.dv + j0 * d.Dv, width, d.Dv).noalias() += P.transpose() * dO;
    if (!need_ds) continue;
    dS.noalias() = dO * V.transpose();  // dP
    for (int64_t r = 0; r < tile.rows; ++r)
      dS.row(r) = P.row(r).array() * (dS.row(r).array() - delta[r]) * T(d.scale);
    if (h.dq) cpu::rows_of(h.dq + tile.i0 * d.D, tile.rows, d.D).noalias() += dS * K;
    if (h.dk) cpu::rows_of(h.dk + j0 * d.D, width, d.D).noalias() += dS.transpose() * Q;
  }
}

}  // namespace

void CpuBackend::attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                    const AttentionOptions& opts, const Tensor& dq, const Tensor& dk,
                                    const Tensor& dv) {
  dispatch_float(q.dtype(), "attention_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const AttentionDims d = dims_of(q, k, v, opts);
    // One task per (batch, head): its query tiles all add into the same dK, dV rows.
    const int threads = worth_threads(d, d.B * d.H) ? omp_get_max_threads() : 1;
    Tensor scratch = Tensor::empty({threads, 2 * kQueryTile * std::min(kKeyBlock, d.Tk)}, q.dtype());
    const int64_t scratch_per_thread = scratch.numel() / threads;
    const std::vector<T> bias = mask_bias<T>(key_mask);
    T* pscratch = scratch.data<T>();
    auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
    const HeadGrads<T> base{q.data<T>(), k.data<T>(), v.data<T>(), out.data<T>(), g.data<T>(), lse.data<T>(),
                            ptr(dq),     ptr(dk),     ptr(dv)};
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (int64_t bh = 0; bh < d.B * d.H; ++bh) {
      auto at = [bh](auto* p, int64_t rows, int64_t cols) { return p ? p + bh * rows * cols : nullptr; };
      const HeadGrads<T> h{at(base.q, d.Tq, d.D),  at(base.k, d.Tk, d.D),  at(base.v, d.Tk, d.Dv),
                           at(base.o, d.Tq, d.Dv), at(base.g, d.Tq, d.Dv), at(base.lse, d.Tq, 1),
                           at(base.dq, d.Tq, d.D), at(base.dk, d.Tk, d.D), at(base.dv, d.Tk, d.Dv)};
      T* thread_scratch = pscratch + omp_get_thread_num() * scratch_per_thread;
      for (int64_t qt = 0; qt < d.query_tiles(); ++qt)
        backward_tile(d, query_tile(d, bh / d.H, qt, bias), h, thread_scratch);
    }
  });
}

}  // namespace petl

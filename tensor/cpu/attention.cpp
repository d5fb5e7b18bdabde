// Fused scaled-dot-product attention on the CPU, one (batch, head) pair per task:
//   S = scale * Q K^T,  P = softmax(S + mask),  O = P V,  lse_i = log sum_j exp(S_ij) (visible j)
// Backward recomputes P from the saved lse instead of storing it (as FlashAttention does):
//   dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dO * O)),  dQ = scale dS K,  dK = scale dS^T Q
// The only temporaries are one [Tq, Tk] score tile (and one dP tile in backward) per thread.
#include <cmath>
#include <limits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/eigen_maps.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

struct AttentionDims {
  int64_t B, H, Tq, Tk, D, Dv;
  double scale;
  bool causal;
};

AttentionDims dims_of(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opts) {
  AttentionDims d{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), v.size(3), opts.scale, opts.causal};
  if (d.scale == 0.0) d.scale = 1.0 / std::sqrt(double(d.D));
  return d;
}

// Below this much work, starting threads costs more than it saves.
bool worth_threads(const AttentionDims& d) {
  return d.B * d.H > 1 && double(d.B * d.H) * double(d.Tq) * double(d.Tk) * double(d.D + d.Dv) >= 1 << 18;
}

// S <- scale * Q K^T with invisible keys set to -inf. mask_row: [Tk] (nonzero = visible) or null.
template <class T>
void masked_scores(const T* q, const T* k, const T* mask_row, const AttentionDims& d, cpu::RowMap<T>& S) {
  S.noalias() = cpu::rows_of(q, d.Tq, d.D) * cpu::rows_of(k, d.Tk, d.D).transpose();
  S *= T(d.scale);
  const T neg_inf = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < d.Tq; ++i) {
    const int64_t last_visible = d.causal ? i + (d.Tk - d.Tq) : d.Tk - 1;
    for (int64_t j = 0; j < d.Tk; ++j)
      if (j > last_visible || (mask_row && mask_row[j] == T(0))) S(i, j) = neg_inf;
  }
}

}  // namespace

void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                           const AttentionOptions& opts, const Tensor& out, const Tensor& lse) {
  dispatch_float(q.dtype(), "attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const AttentionDims d = dims_of(q, k, v, opts);
    const int threads = worth_threads(d) ? omp_get_max_threads() : 1;
    Tensor scratch = Tensor::empty({threads, d.Tq, d.Tk}, q.dtype());
    const T* pq = q.data<T>();
    const T* pk = k.data<T>();
    const T* pv = v.data<T>();
    const T* pmask = key_mask.defined() ? key_mask.data<T>() : nullptr;
    T* po = out.data<T>();
    T* plse = lse.data<T>();
    T* pscratch = scratch.data<T>();
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (int64_t bh = 0; bh < d.B * d.H; ++bh) {
      const int64_t b = bh / d.H;
      cpu::RowMap<T> S(pscratch + int64_t(omp_get_thread_num()) * d.Tq * d.Tk, d.Tq, d.Tk,
                       Eigen::OuterStride<>(d.Tk));
      masked_scores(pq + bh * d.Tq * d.D, pk + bh * d.Tk * d.D, pmask ? pmask + b * d.Tk : nullptr, d, S);
      for (int64_t i = 0; i < d.Tq; ++i) {
        const T m = S.row(i).maxCoeff();
        if (m == -std::numeric_limits<T>::infinity()) {  // no visible key: zero output
          S.row(i).setZero();
          plse[bh * d.Tq + i] = m;
          continue;
        }
        S.row(i) = (S.row(i).array() - m).exp();
        const T sum = S.row(i).sum();
        S.row(i) /= sum;
        plse[bh * d.Tq + i] = m + std::log(sum);
      }
      auto O = cpu::rows_of(po + bh * d.Tq * d.Dv, d.Tq, d.Dv);
      O.noalias() = S * cpu::rows_of(pv + bh * d.Tk * d.Dv, d.Tk, d.Dv);
    }
  });
}

void CpuBackend::attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                    const AttentionOptions& opts, const Tensor& dq, const Tensor& dk,
                                    const Tensor& dv) {
  dispatch_float(q.dtype(), "attention_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const AttentionDims d = dims_of(q, k, v, opts);
    const int threads = worth_threads(d) ? omp_get_max_threads() : 1;
    Tensor scratch = Tensor::empty({threads, 2, d.Tq, d.Tk}, q.dtype());
    const T* pg = g.data<T>();
    const T* pq = q.data<T>();
    const T* pk = k.data<T>();
    const T* pv = v.data<T>();
    const T* po = out.data<T>();
    const T* plse = lse.data<T>();
    const T* pmask = key_mask.defined() ? key_mask.data<T>() : nullptr;
    T* pdq = dq.defined() ? dq.data<T>() : nullptr;
    T* pdk = dk.defined() ? dk.data<T>() : nullptr;
    T* pdv = dv.defined() ? dv.data<T>() : nullptr;
    T* pscratch = scratch.data<T>();
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (int64_t bh = 0; bh < d.B * d.H; ++bh) {
      const int64_t b = bh / d.H;
      T* tile = pscratch + int64_t(omp_get_thread_num()) * 2 * d.Tq * d.Tk;
      cpu::RowMap<T> P(tile, d.Tq, d.Tk, Eigen::OuterStride<>(d.Tk));
      cpu::RowMap<T> dS(tile + d.Tq * d.Tk, d.Tq, d.Tk, Eigen::OuterStride<>(d.Tk));
      const T* qh = pq + bh * d.Tq * d.D;
      const T* kh = pk + bh * d.Tk * d.D;
      const T* vh = pv + bh * d.Tk * d.Dv;
      const T* gh = pg + bh * d.Tq * d.Dv;
      masked_scores(qh, kh, pmask ? pmask + b * d.Tk : nullptr, d, P);
      for (int64_t i = 0; i < d.Tq; ++i) {
        const T l = plse[bh * d.Tq + i];
        if (l == -std::numeric_limits<T>::infinity()) P.row(i).setZero();
        else P.row(i) = (P.row(i).array() - l).exp();
      }
      const auto dO = cpu::rows_of(gh, d.Tq, d.Dv);
      if (pdv) cpu::rows_of(pdv + bh * d.Tk * d.Dv, d.Tk, d.Dv).noalias() += P.transpose() * dO;
      if (!pdq && !pdk) continue;
      dS.noalias() = dO * cpu::rows_of(vh, d.Tk, d.Dv).transpose();  // dP
      const auto O = cpu::rows_of(po + bh * d.Tq * d.Dv, d.Tq, d.Dv);
      for (int64_t i = 0; i < d.Tq; ++i) {
        const T delta = dO.row(i).dot(O.row(i));
        dS.row(i) = P.row(i).array() * (dS.row(i).array() - delta) * T(d.scale);
      }
      if (pdq) cpu::rows_of(pdq + bh * d.Tq * d.D, d.Tq, d.D).noalias() += dS * cpu::rows_of(kh, d.Tk, d.D);
      if (pdk) cpu::rows_of(pdk + bh * d.Tk * d.D, d.Tk, d.D).noalias() += dS.transpose() * cpu::rows_of(qh, d.Tq, d.D);
    }
  });
}

}  // namespace petl

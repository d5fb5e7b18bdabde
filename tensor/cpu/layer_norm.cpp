// Layer normalization over the last axis (Ba, Kiros, Hinton 2016), optionally fused with the
// residual add before it (h = x + r; y = LN(h)) and, in backward, with the residual's gradient:
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = gamma * xhat + beta
// Backward, with dxhat = g * gamma:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   dgamma = sum_rows g * xhat,   dbeta = sum_rows g
#include <cmath>
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

// The forward over rows; with a residual r (fused residual add, autograd/layer_norm.cpp) each row
// first forms h = x + r, writes it to h and normalizes it while it is in cache.
void layer_norm_rows(const Tensor& x, const Tensor& residual, const Tensor& h, const Tensor& gamma, const Tensor& beta,
                     double eps, const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const T* pin = x.data<T>();
    const T* pres = residual.defined() ? residual.data<T>() : nullptr;
    T* ph = h.defined() ? h.data<T>() : nullptr;
    const T* pgam = gamma.defined() ? gamma.data<T>() : nullptr;
    const T* pbet = beta.defined() ? beta.data<T>() : nullptr;
    T* py = y.data<T>();
    T* pm = mean.data<T>();
    T* pr = rstd.data<T>();
#pragma omp parallel for if (x.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = pin + r * n;
      if (pres) {  // h = x + r
        T* hr = ph + r * n;
        const T* rr = pres + r * n;
        for (int64_t j = 0; j < n; ++j) hr[j] = xr[j] + rr[j];
        xr = hr;
      }
      T* yr = py + r * n;
      T sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += xr[j];
      const T mu = sum / T(n);
      T var = 0;
      for (int64_t j = 0; j < n; ++j) var += (xr[j] - mu) * (xr[j] - mu);
      const T rs = T(1) / std::sqrt(var / T(n) + T(eps));
      for (int64_t j = 0; j < n; ++j) {
        const T xhat = (xr[j] - mu) * rs;
        yr[j] = (pgam ? pgam[j] * xhat : xhat) + (pbet ? pbet[j] : T(0));
      }
      pm[r] = mu;
      pr[r] = rs;
    }
  });
}

// The backward over rows; with dx_add (the gradient h already received from its other
// consumers, autograd/layer_norm.cpp) each dx row is written as dx_add + the normalization's term.
void layer_norm_backward_rows(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                              const Tensor& rstd, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                              const Tensor& dbeta) {
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const T* pg = g.data<T>();
    const T* px = x.data<T>();
    const T* pgam = gamma.defined() ? gamma.data<T>() : nullptr;
    const T* pm = mean.data<T>();
    const T* pr = rstd.data<T>();
    T* pdx = dx.defined() ? dx.data<T>() : nullptr;
    const T* padd = dx_add.defined() ? dx_add.data<T>() : nullptr;
    const bool need_params = dgamma.defined() || dbeta.defined();
    const int threads = x.numel() >= cpu::kParallelGrain ? omp_get_max_threads() : 1;
    // Per-thread partial sums of dgamma and dbeta, added up after the parallel loop.
    std::vector<T> partial(need_params ? size_t(threads) * size_t(2 * n) : 0, T(0));
#pragma omp parallel num_threads(threads)
    {
      T* pgsum = need_params ? partial.data() + size_t(omp_get_thread_num()) * size_t(2 * n) : nullptr;
#pragma omp for
      for (int64_t r = 0; r < rows; ++r) {
        const T* gr = pg + r * n;
        const T* xr = px + r * n;
        const T mu = pm[r], rs = pr[r];
        if (pgsum) {
          for (int64_t j = 0; j < n; ++j) {
            pgsum[j] += gr[j] * (xr[j] - mu) * rs;
            pgsum[n + j] += gr[j];
          }
        }
        if (!pdx) continue;
        T mean_dxhat = 0, mean_dxhat_xhat = 0;
        for (int64_t j = 0; j < n; ++j) {
          const T dxhat = pgam ? gr[j] * pgam[j] : gr[j];
          mean_dxhat += dxhat;
          mean_dxhat_xhat += dxhat * (xr[j] - mu) * rs;
        }
        mean_dxhat /= T(n);
        mean_dxhat_xhat /= T(n);
        T* dr = pdx + r * n;
        const T* ar = padd ? padd + r * n : nullptr;
        for (int64_t j = 0; j < n; ++j) {
          const T dxhat = pgam ? gr[j] * pgam[j] : gr[j];
          const T d = rs * (dxhat - mean_dxhat - (xr[j] - mu) * rs * mean_dxhat_xhat);
          dr[j] = ar ? ar[j] + d : d;
        }
      }
    }
    if (!need_params) return;
    T* pdg = dgamma.defined() ? dgamma.data<T>() : nullptr;
    T* pdb = dbeta.defined() ? dbeta.data<T>() : nullptr;
    for (int64_t j = 0; j < n; ++j) {
      T sg = 0, sb = 0;
      for (int t = 0; t < threads; ++t) {
        sg += partial[size_t(t) * size_t(2 * n) + size_t(j)];
        sb += partial[size_t(t) * size_t(2 * n) + size_t(n + j)];
      }
      if (pdg) pdg[j] = sg;
      if (pdb) pdb[j] = sb;
    }
  });
}

}  // namespace

void CpuBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  layer_norm_rows(x, Tensor(), Tensor(), gamma, beta, eps, y, mean, rstd);
}

void CpuBackend::add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps,
                                const Tensor& h, const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  layer_norm_rows(x, r, h, gamma, beta, eps, y, mean, rstd);
}

void CpuBackend::layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                     const Tensor& dbeta) {
  layer_norm_backward_rows(g, x, gamma, mean, rstd, Tensor(), dx, dgamma, dbeta);
}

void CpuBackend::layer_norm_backward_add(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                         const Tensor& rstd, const Tensor& dx_add, const Tensor& dx,
                                         const Tensor& dgamma, const Tensor& dbeta) {
  layer_norm_backward_rows(g, x, gamma, mean, rstd, dx_add, dx, dgamma, dbeta);
}

}  // namespace petl

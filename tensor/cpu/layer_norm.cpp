// Layer normalization over the last axis (Ba, Kiros, Hinton 2016):
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = gamma * xhat + beta
// Backward, with dxhat = g * gamma:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   dgamma = sum_rows g * xhat,   dbeta = sum_rows g
#include <cmath>
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pgam = gamma.defined() ? gamma.data<scalar_t>() : nullptr;
    const scalar_t* pbet = beta.defined() ? beta.data<scalar_t>() : nullptr;
    scalar_t* py = y.data<scalar_t>();
    scalar_t* pm = mean.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
#pragma omp parallel for if (x.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = px + r * n;
      scalar_t* yr = py + r * n;
      scalar_t sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += xr[j];
      const scalar_t mu = sum / scalar_t(n);
      scalar_t var = 0;
      for (int64_t j = 0; j < n; ++j) var += (xr[j] - mu) * (xr[j] - mu);
      const scalar_t rs = scalar_t(1) / std::sqrt(var / scalar_t(n) + scalar_t(eps));
      for (int64_t j = 0; j < n; ++j) {
        const scalar_t xhat = (xr[j] - mu) * rs;
        yr[j] = (pgam ? pgam[j] * xhat : xhat) + (pbet ? pbet[j] : scalar_t(0));
      }
      pm[r] = mu;
      pr[r] = rs;
    }
  });
}

void CpuBackend::layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                     const Tensor& dbeta) {
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const scalar_t* pg = g.data<scalar_t>();
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pgam = gamma.defined() ? gamma.data<scalar_t>() : nullptr;
    const scalar_t* pm = mean.data<scalar_t>();
    const scalar_t* pr = rstd.data<scalar_t>();
    scalar_t* pdx = dx.defined() ? dx.data<scalar_t>() : nullptr;
    const bool need_params = dgamma.defined() || dbeta.defined();
    const int threads = x.numel() >= cpu::kParallelGrain ? omp_get_max_threads() : 1;
    // Per-thread partial sums of dgamma and dbeta, added up after the parallel loop.
    std::vector<scalar_t> partial(need_params ? size_t(threads) * size_t(2 * n) : 0, scalar_t(0));
#pragma omp parallel num_threads(threads)
    {
      scalar_t* pgsum = need_params ? partial.data() + size_t(omp_get_thread_num()) * size_t(2 * n) : nullptr;
#pragma omp for
      for (int64_t r = 0; r < rows; ++r) {
        const scalar_t* gr = pg + r * n;
        const scalar_t* xr = px + r * n;
        const scalar_t mu = pm[r], rs = pr[r];
        if (pgsum) {
          for (int64_t j = 0; j < n; ++j) {
            pgsum[j] += gr[j] * (xr[j] - mu) * rs;
            pgsum[n + j] += gr[j];
          }
        }
        if (!pdx) continue;
        scalar_t mean_dxhat = 0, mean_dxhat_xhat = 0;
        for (int64_t j = 0; j < n; ++j) {
          const scalar_t dxhat = pgam ? gr[j] * pgam[j] : gr[j];
          mean_dxhat += dxhat;
          mean_dxhat_xhat += dxhat * (xr[j] - mu) * rs;
        }
        mean_dxhat /= scalar_t(n);
        mean_dxhat_xhat /= scalar_t(n);
        scalar_t* dr = pdx + r * n;
        for (int64_t j = 0; j < n; ++j) {
          const scalar_t dxhat = pgam ? gr[j] * pgam[j] : gr[j];
          dr[j] = rs * (dxhat - mean_dxhat - (xr[j] - mu) * rs * mean_dxhat_xhat);
        }
      }
    }
    if (!need_params) return;
    scalar_t* pdg = dgamma.defined() ? dgamma.data<scalar_t>() : nullptr;
    scalar_t* pdb = dbeta.defined() ? dbeta.data<scalar_t>() : nullptr;
    for (int64_t j = 0; j < n; ++j) {
      scalar_t sg = 0, sb = 0;
      for (int t = 0; t < threads; ++t) {
        sg += partial[size_t(t) * size_t(2 * n) + size_t(j)];
        sb += partial[size_t(t) * size_t(2 * n) + size_t(n + j)];
      }
      if (pdg) pdg[j] = sg;
      if (pdb) pdb[j] = sb;
    }
  });
}

}  // namespace petl

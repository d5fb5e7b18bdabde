// Layer normalization over the last axis and its backward (see kernels.h).
#include <cmath>

#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

LayerNormOut layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_floating(x, "layer_norm");
  PETL_CHECK(x.dim() >= 1, "layer_norm: input must have at least 1 dim, got shape ", shape_str(x.shape()));
  // eps < 0 makes 1/sqrt(var + eps) NaN for a constant row; NaN eps poisons every row.
  PETL_CHECK(eps >= 0 && std::isfinite(eps), "layer_norm: eps must be a finite number >= 0, got ", eps);
  const int64_t n = x.shape().back();
  for (const Tensor* p : {&gamma, &beta}) {
    if (!p->defined()) continue;
    check_compatible(x, *p, "layer_norm");
    PETL_CHECK(p->shape() == Shape{n}, "layer_norm: weight/bias of shape ", shape_str(p->shape()),
               " for input ", shape_str(x.shape()), ", expected [", n, "]");
  }
  Tensor xc = contiguous(x);
  const int64_t rows = n ? x.numel() / n : 0;
  LayerNormOut r{empty_like(xc), Tensor::empty({rows}, x.dtype(), x.device()),
                 Tensor::empty({rows}, x.dtype(), x.device())};
  if (x.numel())
    backend_for(x.device()).layer_norm(xc, gamma.defined() ? contiguous(gamma) : gamma,
                                       beta.defined() ? contiguous(beta) : beta, eps, r.y, r.mean, r.rstd);
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, bool need_dx, bool need_dgamma, bool need_dbeta,
                                   const Tensor& dx_add) {
  check_compatible(g, x, "layer_norm_backward");
  check_same_shape(g, x, "layer_norm_backward");
  const bool adds = need_dx && dx_add.defined();
  if (adds) {
    check_compatible(dx_add, x, "layer_norm_backward");
    check_same_shape(dx_add, x, "layer_norm_backward");
  }
  const int64_t n = x.shape().back();
  LayerNormGrads r;
  if (need_dx) r.dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_dgamma) r.dgamma = Tensor::empty({n}, x.dtype(), x.device());
  if (need_dbeta) r.dbeta = Tensor::empty({n}, x.dtype(), x.device());
  Backend& backend = backend_for(x.device());
  const Tensor gamma_c = gamma.defined() ? contiguous(gamma) : gamma;
  if (x.numel() && adds)
    backend.layer_norm_backward_add(contiguous(g), contiguous(x), gamma_c, mean, rstd, contiguous(dx_add), r.dx,
                                    r.dgamma, r.dbeta);
  else if (x.numel() && (need_dx || need_dgamma || need_dbeta))
    backend.layer_norm_backward(contiguous(g), contiguous(x), gamma_c, mean, rstd, r.dx, r.dgamma, r.dbeta);
  else {
    for (Tensor* t : {&r.dx, &r.dgamma, &r.dbeta})
      if (t->defined()) fill_(*t, 0.0);
  }
  return r;
}

AddLayerNormOut add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta,
                               double eps) {
  check_compatible(x, r, "add_layer_norm");
  check_same_shape(x, r, "add_layer_norm");
  check_floating(x, "add_layer_norm");
  PETL_CHECK(x.dim() >= 1, "add_layer_norm: input must have at least 1 dim, got shape ", shape_str(x.shape()));
  PETL_CHECK(eps >= 0 && std::isfinite(eps), "add_layer_norm: eps must be a finite number >= 0, got ", eps);
  const int64_t n = x.shape().back();
  for (const Tensor* p : {&gamma, &beta}) {
    if (!p->defined()) continue;
    check_compatible(x, *p, "add_layer_norm");
    PETL_CHECK(p->shape() == Shape{n}, "add_layer_norm: weight/bias of shape ", shape_str(p->shape()),
               " for input ", shape_str(x.shape()), ", expected [", n, "]");
  }
  const int64_t rows = n ? x.numel() / n : 0;
  const Tensor sum = empty_like(x), y = empty_like(x);
  const Tensor mean = Tensor::empty({rows}, x.dtype(), x.device()), rstd = Tensor::empty({rows}, x.dtype(), x.device());
  if (x.numel())
    backend_for(x.device()).add_layer_norm(contiguous(x), contiguous(r), gamma.defined() ? contiguous(gamma) : gamma,
                                           beta.defined() ? contiguous(beta) : beta, eps, sum, y, mean, rstd);
  return {sum, y, mean, rstd};
}

}  // namespace petl::kernel

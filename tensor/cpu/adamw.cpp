// Fused AdamW update (nn/adamw.h): each element of p, m, v is read once and written once, with no
// temporary tensors. The arithmetic follows torch.optim.AdamW (_single_tensor_adamw):
//   p <- p (1 - lr wd)
//   m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps),      bc_k = 1 - b_k^t
#include <cmath>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                            const AdamWStep& s) {
  dispatch_float(param.dtype(), "adamw_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* pp = param.data<T>();
    const T* pg = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const T decay = T(1.0 - s.lr * s.weight_decay), b1 = T(s.beta1), b2 = T(s.beta2);
    const T one_minus_b1 = T(1.0 - s.beta1), one_minus_b2 = T(1.0 - s.beta2);
    const T step_size = T(s.lr / s.bias_correction1), inv_sqrt_bc2 = T(1.0 / std::sqrt(s.bias_correction2));
    const T eps = T(s.eps);
    const int64_t n = param.numel();
#pragma omp parallel for simd if (n >= cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      const T g = pg[i];
      const T mi = b1 * pm[i] + one_minus_b1 * g;
      const T vi = b2 * pv[i] + one_minus_b2 * (g * g);
      pm[i] = mi;
      pv[i] = vi;
      pp[i] = pp[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
    }
  });
}

}  // namespace petl

// Fused AdamW update, one thread per element in a grid-stride loop (formulas of
// tensor/cpu/adamw.cpp, after torch.optim.AdamW):
//   p <- p (1 - lr wd);  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
#include <cmath>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/check.h"
#include "tensor/cuda/context.h"
#include "tensor/cuda/math.cuh"

namespace petl {

namespace {

template <class T>
__global__ void adamw_kernel(T* p, const T* g, T* m, T* v, int64_t n, T decay, T b1, T one_minus_b1, T b2,
                             T one_minus_b2, T step_size, T inv_sqrt_bc2, T eps) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const T gi = g[i];
    const T mi = b1 * m[i] + one_minus_b1 * gi;
    const T vi = b2 * v[i] + one_minus_b2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (cuda::dsqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace

void CudaBackend::adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                             const AdamWStep& s) {
  const int64_t n = param.numel();
  if (n == 0) return;
  dispatch_float(param.dtype(), "adamw_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cuda::Context& ctx = cuda::context_of(param);
    adamw_kernel<T><<<cuda::grid_for(n, 256, ctx), 256, 0, ctx.stream>>>(
        param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), n, T(1.0 - s.lr * s.weight_decay), T(s.beta1),
        T(1.0 - s.beta1), T(s.beta2), T(1.0 - s.beta2), T(s.lr / s.bias_correction1),
        T(1.0 / std::sqrt(s.bias_correction2)), T(s.eps));
    PETL_CUDA_CHECK_LAUNCH("adamw_step");
  });
}

}  // namespace petl

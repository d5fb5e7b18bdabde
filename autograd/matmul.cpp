// Differentiable matmul; a frozen operand gets no gradient GEMM.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // y = a @ b:  da = g @ b^T,  db = a^T @ g   (each summed over broadcast batch dims)
  Tensor y = kernel::matmul(a, b);
  return record("matmul", y, {&a, &b}, [a = a.detach(), b = b.detach()](BackwardContext& ctx) {
    const Tensor& g = ctx.grad;
    if (ctx.wants(0)) ctx.set(0, sum_to(matmul(g, transpose(b, -1, -2)), a.shape()));
    if (!ctx.wants(1)) return;
    if (b.dim() == 2 && a.dim() > 2) {
      // A shared weight (x [..., K] @ W [K, N]): one GEMM over all rows, [K, rows] @ [rows, N].
      const int64_t K = a.size(-1), N = b.size(-1);
      ctx.set(1, matmul(transpose(reshape(a, {-1, K}), 0, 1), reshape(g, {-1, N})));
    } else {
      ctx.set(1, sum_to(matmul(transpose(a, -1, -2), g), b.shape()));
    }
  });
}

}  // namespace petl

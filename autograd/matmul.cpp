// Differentiable matmul; a frozen operand gets no gradient GEMM.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // y = a @ b:  da = g @ b^T,  db = a^T @ g   (each summed over broadcast batch dims)
  // Each operand is kept only when the other one's gradient reads it: the input of a frozen weight
  // (LoRA, prefix tuning: x @ W with W frozen) is not held until backward.
  Tensor y = kernel::matmul(a, b);
  return record("matmul", y, {&a, &b},
                [sa = a.shape(), sb = b.shape(), a = b.requires_grad() ? a.detach() : Tensor(),
                 b = a.requires_grad() ? b.detach() : Tensor()](BackwardContext& ctx) {
                  const Tensor& g = ctx.grad;
                  if (ctx.wants(0)) ctx.set(0, sum_to(matmul(g, transpose(b, -1, -2)), sa));
                  if (!ctx.wants(1)) return;
                  if (sb.size() == 2 && sa.size() > 2) {
                    // A shared weight (x [..., K] @ W [K, N]): one GEMM over all rows, [K, rows] @ [rows, N].
                    const int64_t K = sa.back(), N = sb.back();
                    ctx.set(1, matmul(transpose(reshape(a, {-1, K}), 0, 1), reshape(g, {-1, N})));
                  } else {
                    ctx.set(1, sum_to(matmul(transpose(a, -1, -2), g), sb));
                  }
                });
}

}  // namespace petl

// Differentiable matmul; a frozen operand gets no gradient GEMM.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // y = a @ b:  da = g @ b^T,  db = a^T @ g   (each summed over broadcast batch dims)
  // Each operand is kept only when the other one's gradient reads it: the input of a frozen weight
  // (LoRA, prefix tuning: x @ W with W frozen) is not held until backward.
  Tensor y = kernel::matmul(a, b);
  // A 2-D b stored column-major is a transposed view of a [N, K] tensor (the tied LM head's wte^T,
  // every nn.Linear weight in BART's layout). Its gradient is then computed as (g^T a)^T: the GEMM
  // writes it in the weight's own storage order, so the leaf keeps it as it is, where the
  // row-major a^T g, seen through the transpose, would reach the leaf as a strided view that
  // accumulate_leaf copies (154 MB for GPT-2's wte, every step).
  const bool b_transposed_view = b.dim() == 2 && b.size(0) > 1 && b.size(1) > 1 && b.strides()[0] == 1 &&
                                 b.strides()[1] == b.size(0);
  return record("matmul", y, {&a, &b},
                [sa = a.shape(), sb = b.shape(), a = b.requires_grad() ? a.detach() : Tensor(),
                 b = a.requires_grad() ? b.detach() : Tensor(), b_transposed_view](BackwardContext& ctx) {
                  const Tensor& g = ctx.grad;
                  if (ctx.wants(0)) ctx.set(0, sum_to(matmul(g, transpose(b, -1, -2)), sa));
                  if (!ctx.wants(1)) return;
                  if (sb.size() == 2 && sa.size() >= 2) {
                    // A shared weight (x [..., K] @ W [K, N]): one GEMM over all rows, [K, rows] @ [rows, N],
                    // or its transpose [N, rows] @ [rows, K] for a weight stored as W^T.
                    const int64_t K = sa.back(), N = sb.back();
                    const Tensor rows_a = reshape(a, {-1, K}), rows_g = reshape(g, {-1, N});
                    ctx.set(1, b_transposed_view ? transpose(matmul(transpose(rows_g, 0, 1), rows_a), 0, 1)
                                                 : matmul(transpose(rows_a, 0, 1), rows_g));
                  } else {
                    ctx.set(1, sum_to(matmul(transpose(a, -1, -2), g), sb));
                  }
                });
}

}  // namespace petl

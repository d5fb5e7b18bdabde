// Differentiable embedding lookup.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  // y[i] = W[ids[i]]:  dW[v] = sum of g[i] over positions i with ids[i] == v
  Tensor y = kernel::embedding(weight, ids);
  return record("embedding", y, {&weight}, [ids = ids.detach(), vocab = weight.size(0)](BackwardContext& ctx) {
    ctx.set(0, kernel::embedding_backward(ctx.grad, ids, vocab));
  });
}

}  // namespace petl

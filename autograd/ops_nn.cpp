// Neural-network ops: matmul, softmax, layer norm, embedding, masking, dropout, cross-entropy.
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // y = a @ b:  da = g @ b^T,  db = a^T @ g   (each summed over broadcast batch dims)
  Tensor y = kernel::matmul(a, b);
  return record("matmul", y, {&a, &b}, [a = a.detach(), b = b.detach()](BackwardContext& ctx) {
    const Tensor& g = ctx.grad;
    if (ctx.wants(0)) ctx.set(0, kernel::sum_to(kernel::matmul(g, kernel::transpose(b, -1, -2)), a.shape()));
    if (!ctx.wants(1)) return;
    if (b.dim() == 2 && a.dim() > 2) {
      // A shared weight (x [..., K] @ W [K, N]): one GEMM over all rows, [K, rows] @ [rows, N].
      const int64_t K = a.size(-1), N = b.size(-1);
      ctx.set(1, kernel::matmul(kernel::transpose(kernel::reshape(a, {-1, K}), 0, 1), kernel::reshape(g, {-1, N})));
    } else {
      ctx.set(1, kernel::sum_to(kernel::matmul(kernel::transpose(a, -1, -2), g), b.shape()));
    }
  });
}

namespace {
Tensor softmax_op(const Tensor& x, int64_t axis, bool log) {
  Tensor y = kernel::softmax(x, axis, log);
  return record(log ? "log_softmax" : "softmax", y, {&x}, [y = y.detach(), axis, log](BackwardContext& ctx) {
    ctx.set(0, kernel::softmax_backward(ctx.grad, y, axis, log));
  });
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, true); }

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  kernel::LayerNormOut r = kernel::layer_norm(x, gamma, beta, eps);
  return record("layer_norm", r.y, {&x, &gamma, &beta},
                [x = x.detach(), gamma = gamma.defined() ? gamma.detach() : Tensor(), mean = r.mean,
                 rstd = r.rstd](BackwardContext& ctx) {
                  auto d = kernel::layer_norm_backward(ctx.grad, x, gamma, mean, rstd, ctx.wants(0), ctx.wants(1),
                                                       ctx.wants(2));
                  if (ctx.wants(0)) ctx.set(0, kernel::reshape(d.dx, x.shape()));
                  if (ctx.wants(1)) ctx.set(1, d.dgamma);
                  if (ctx.wants(2)) ctx.set(2, d.dbeta);
                });
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  // y[i] = W[ids[i]]:  dW[v] = sum of g[i] over positions i with ids[i] == v
  Tensor y = kernel::embedding(weight, ids);
  return record("embedding", y, {&weight}, [ids = ids.detach(), vocab = weight.size(0)](BackwardContext& ctx) {
    ctx.set(0, kernel::embedding_backward(ctx.grad, ids, vocab));
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  // y = mask ? value : x:  dx = mask ? 0 : g
  Tensor y = kernel::masked_fill(x, mask, value);
  return record("masked_fill", y, {&x}, [mask = mask.detach()](BackwardContext& ctx) {
    ctx.set(0, kernel::masked_fill(ctx.grad, mask, 0.0));
  });
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  if (!training || p == 0.0) return x;
  // y = x * keep / (1 - p): the mask is a function of (seed, offset + i), so backward regenerates
  // it instead of storing it: dx = g * keep / (1 - p).
  const uint64_t seed = gen.seed(), offset = gen.reserve(uint64_t(x.numel()));
  Tensor y = kernel::dropout(x, p, seed, offset);
  return record("dropout", y, {&x}, [p, seed, offset](BackwardContext& ctx) {
    ctx.set(0, kernel::dropout(ctx.grad, p, seed, offset));
  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  // L = mean_i (logsumexp(x_i) - x_i[t_i]):  dx_i = (softmax(x_i) - onehot(t_i)) * g / count
  kernel::CrossEntropyOut r = kernel::cross_entropy(logits, targets, ignore_index);
  return record("cross_entropy", r.loss, {&logits},
                [logits = logits.detach(), targets = targets.detach(), lse = r.lse, ignore_index,
                 count = r.count](BackwardContext& ctx) {
                  ctx.set(0, kernel::cross_entropy_backward(ctx.grad, logits, targets, lse, ignore_index, count));
                });
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const AttentionOptions& opts) {
  // O = softmax(scale Q K^T + mask) V, fused; backward in tensor/cpu/attention.cpp.
  kernel::AttentionOut r = kernel::attention(q, k, v, key_mask, opts);
  return record("attention", r.out, {&q, &k, &v},
                [q = q.detach(), k = k.detach(), v = v.detach(), mask = key_mask.defined() ? key_mask.detach() : Tensor(),
                 out = r.out.detach(), lse = r.lse, opts](BackwardContext& ctx) {
                  auto d = kernel::attention_backward(ctx.grad, q, k, v, mask, out, lse, opts, ctx.wants(0),
                                                      ctx.wants(1), ctx.wants(2));
                  if (ctx.wants(0)) ctx.set(0, d.dq);
                  if (ctx.wants(1)) ctx.set(1, d.dk);
                  if (ctx.wants(2)) ctx.set(2, d.dv);
                });
}

}  // namespace petl

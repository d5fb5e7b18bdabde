// Raw tensor operations: no gradients, no graph. Each function checks its arguments (naming the op
// and the shapes it got), allocates the result, and runs the backend of the inputs' device. The
// definitions live in tensor/kernels/<family>.cpp, one file per section below (views.cpp,
// copy.cpp, elementwise.cpp, reduce.cpp, softmax.cpp, layer_norm.cpp, bias_activation.cpp, matmul.cpp,
// embedding.cpp, cross_entropy.cpp, attention.cpp, adamw.cpp). autograd/ builds the differentiable ops on top of these.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "tensor/backend.h"
#include "tensor/tensor.h"

namespace petl::kernel {

// ---- views: new handles over the same storage, nothing copied
Tensor reshape(const Tensor& x, Shape shape);   // one -1 allowed; copies only when no view exists
Tensor view(const Tensor& x, Shape shape);      // like reshape but throws instead of copying
std::optional<Tensor> try_view(const Tensor& x, Shape shape);  // the view, or nothing when it needs a copy
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast view, stride 0 on new axes
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor squeeze(const Tensor& x, int64_t axis);

// ---- copies and conversions
Tensor contiguous(const Tensor& x);               // x itself when already contiguous
Tensor clone(const Tensor& x);                    // always a fresh contiguous copy
void copy_(const Tensor& dst, const Tensor& src);  // src broadcast to dst, dtype converted
Tensor to(const Tensor& x, Device device);
Tensor to(const Tensor& x, DType dtype);
void fill_(const Tensor& x, double value);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);

// ---- elementwise (NumPy broadcasting)
Tensor unary(UnaryOp op, const Tensor& x, double param = 0.0);
Tensor unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
void add_(const Tensor& dst, const Tensor& src);  // dst += src (broadcast), dst contiguous
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);

// ---- reductions over a set of axes
Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdim);
Tensor max_backward(const Tensor& g, const Tensor& x, const Tensor& y, std::vector<int64_t> axes, bool keepdim);
// Sums x over the axes along which `shape` was broadcast to x's shape (the gradient of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- normalization
Tensor softmax(const Tensor& x, int64_t axis, bool log);
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t axis, bool log);
struct LayerNormOut { Tensor y, mean, rstd; };
LayerNormOut layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
struct LayerNormGrads { Tensor dx, dgamma, dbeta; };
// dx_add (x's shape, optional): added to dx in the same pass (the gradient x already has from
// elsewhere; the fused residual + layer norm of autograd/layer_norm.cpp).
LayerNormGrads layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, bool need_dx, bool need_dgamma, bool need_dbeta,
                                   const Tensor& dx_add = Tensor());
// h = x + r (same shape), y = layer_norm(h) in one pass.
struct AddLayerNormOut { Tensor h, y, mean, rstd; };
AddLayerNormOut add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps);

// ---- bias + activation after a Linear (bias_activation.cpp): y = f(x + b), b [n] over the rows
// of x [..., n], f = GeluTanh or GeluErf. Backward: dx = g * f'(x + b) and db = sum_rows dx, each
// computed only when asked for.
Tensor bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias);
struct BiasActivationGrads { Tensor dx, dbias; };
BiasActivationGrads bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias,
                                             bool need_dx, bool need_dbias);

// ---- products and lookups
Tensor matmul(const Tensor& a, const Tensor& b);  // [..., M, K] @ [..., K, N], batch dims broadcast
Tensor embedding(const Tensor& weight, const Tensor& ids);
Tensor embedding_backward(const Tensor& g, const Tensor& ids, int64_t num_embeddings);

// ---- losses
struct CrossEntropyOut { Tensor loss, lse; int64_t count = 0; };  // loss: mean over kept rows
CrossEntropyOut cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index);
// With reuse_logits (logits contiguous), dlogits is written over the logits and returned as a tensor
// sharing their storage: for a caller that holds the last reference to them.
Tensor cross_entropy_backward(const Tensor& g, const Tensor& logits, const Tensor& targets, const Tensor& lse,
                              int64_t ignore_index, int64_t count, bool reuse_logits = false);

// ---- fused scaled-dot-product attention (see AttentionOptions in tensor/backend.h)
struct AttentionOut { Tensor out, lse; };
AttentionOut attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const AttentionOptions& opts);
struct AttentionGrads { Tensor dq, dk, dv; };
AttentionGrads attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                  const AttentionOptions& opts, bool need_dq, bool need_dk, bool need_dv);

// ---- optimizers (tensor/kernels/adamw.cpp)
// param, m, v updated in place (their versions bumped) from grad; see nn/adamw.h for the rule.
void adamw_step_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWStep& step);

}  // namespace petl::kernel

namespace petl {
// Counters that make work visible to tests and benchmarks (e.g. that a frozen weight costs no
// weight-gradient GEMM).
struct KernelCounters {
  int64_t matmul_calls = 0;
  double matmul_flops = 0.0;
};
KernelCounters& kernel_counters();
}  // namespace petl

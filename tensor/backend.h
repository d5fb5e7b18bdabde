// The interface every device implements (CMU needle's NDArray-backend split, MLX's primitives):
// tensor/kernels/*.cpp validates arguments, allocates outputs, then calls the backend of the
// inputs' device. A backend therefore sees checked shapes, same-device inputs and a fresh
// contiguous `out`; inputs may be arbitrary strided views unless a comment says otherwise.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace petl {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Tanh, Relu, GeluTanh, GeluErf, Pow };
enum class BinaryOp { Add, Sub, Mul, Div };
enum class ReduceOp { Sum, Mean, Max };

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);

// Scaled dot-product attention, shapes q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv].
// Key j is visible to query i when key_mask[b, j] != 0 (if a mask is given) and, when causal,
// j <= i + (Tk - Tq): the last query sees every key, so leading extra key/value rows (prefix
// tuning's P_k, P_v, or a KV cache) stay visible to all queries. A query that sees no key at all
// gets a zero output row.
struct AttentionOptions {
  bool causal = false;
  double scale = 0.0;  // 0 means 1/sqrt(D)
};

// One AdamW step's scalars (nn/adamw.h): bias_correction_k = 1 - beta_k^t for the step t.
struct AdamWStep {
  double lr = 0.0, beta1 = 0.0, beta2 = 0.0, eps = 0.0, weight_decay = 0.0;
  double bias_correction1 = 1.0, bias_correction2 = 1.0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- memory
  // Contiguous bytes between host memory and this device (the CPU backend just copies).
  virtual void upload(const Tensor& dst, const void* host) = 0;
  virtual void download(const Tensor& src, void* host) = 0;
  virtual void synchronize() {}
  virtual void fill(const Tensor& out, double value) = 0;  // out may be a strided view
  // dst[i] = src[i] elementwise over dst's shape; src already broadcast (strides may be 0) and
  // either dtype (converted); dst may be strided. Both on this backend's device.
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void random_uniform(const Tensor& out, double low, double high, uint64_t seed, uint64_t offset) = 0;
  virtual void random_normal(const Tensor& out, double mean, double std, uint64_t seed, uint64_t offset) = 0;

  // ---- elementwise (a, b already broadcast to out's shape: strides may be 0)
  virtual void unary(UnaryOp op, const Tensor& x, double param, const Tensor& out) = 0;
  // out = g * f'(x); y = f(x) is passed for ops whose derivative is cheaper from y (exp, tanh, sqrt).
  virtual void unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param,
                              const Tensor& out) = 0;
  // out may be a itself (kernel::add_): each element reads only its own index.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = value where mask != 0 else x; mask (any dtype) already broadcast to x's shape.
  virtual void masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) = 0;
  // out = x * keep / (1 - p), keep_i = uniform(seed, offset + i) >= p, i the row-major index.
  virtual void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) = 0;

  // ---- reductions. x is contiguous and viewed as [outer, reduced, inner]; out is [outer, inner].
  virtual void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner,
                      const Tensor& out) = 0;
  // amax backward over the same [outer, reduced, inner] view: the gradient is shared equally among
  // the elements equal to the max. x, y ([outer, inner]), g ([outer, inner]) contiguous.
  virtual void max_backward(const Tensor& g, const Tensor& x, const Tensor& y, int64_t outer, int64_t reduced,
                            int64_t inner, const Tensor& out) = 0;

  // ---- softmax / log-softmax over the last axis of a contiguous [rows, n] tensor
  virtual void softmax(const Tensor& x, bool log, const Tensor& out) = 0;
  virtual void softmax_backward(const Tensor& g, const Tensor& y, bool log, const Tensor& out) = 0;

  // ---- layer norm over the last axis; x, g contiguous [rows, n]; gamma/beta [n] or undefined.
  virtual void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                          const Tensor& y, const Tensor& mean, const Tensor& rstd) = 0;
  // Any of dx, dgamma, dbeta may be undefined: that gradient is not computed at all.
  virtual void layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                   const Tensor& dbeta) = 0;

  // ---- out[b] = a[b] @ c[b] for b in batch; a [batch, M, K], c [batch, K, N] as strided views
  // whose last two dims have a unit stride on one side (row- or column-major), batch stride may be
  // 0 (broadcast). out [batch, M, N] contiguous. If accumulate, out += instead of =.
  virtual void matmul(const Tensor& a, const Tensor& c, const Tensor& out, bool accumulate) = 0;

  // ---- embedding: out[..., :] = weight[ids[...], :]; weight contiguous [V, C]; ids int64 contiguous.
  virtual void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) = 0;
  // dweight (zeroed, [V, C]) += scatter of g rows by ids.
  virtual void embedding_backward(const Tensor& g, const Tensor& ids, const Tensor& dweight) = 0;

  // ---- cross entropy over logits [N, V] (contiguous), targets int64 [N]. Writes per-row
  // logsumexp and the summed loss of the rows whose target != ignore_index into loss [] (scalar).
  virtual void cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                             const Tensor& loss_sum, const Tensor& lse) = 0;
  // dlogits = scale * (softmax(logits) - onehot(target)) for kept rows, 0 for ignored rows.
  // dlogits may be logits itself (the gradient written over the logits, element by element).
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                                      int64_t ignore_index, double scale, const Tensor& dlogits) = 0;

  // ---- fused attention (see AttentionOptions). q, k, v, out, g contiguous; key_mask [B, Tk] in
  // q's dtype (nonzero = visible) or undefined. lse [B, H, Tq] receives the softmax normalizer of each query row (for backward).
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                         const AttentionOptions& opts, const Tensor& out, const Tensor& lse) = 0;
  // dq/dk/dv zero-initialized outputs; an undefined one is not computed.
  virtual void attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                  const AttentionOptions& opts, const Tensor& dq, const Tensor& dk,
                                  const Tensor& dv) = 0;

  // ---- fused ops (kernels/fused.cpp). Each default composes the primitives above (one pass per
  // primitive, a temporary where needed); a backend overrides it to do the work in one pass.
  // out = f(x + bias) for the activation op (GeluTanh or GeluErf); x, out contiguous [rows, n],
  // bias contiguous [n].
  virtual void bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias, const Tensor& out);
  // dx = g * f'(x + bias) and dbias = the sum of dx over the rows; either may be undefined (not
  // computed). g, x contiguous [rows, n].
  virtual void bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias,
                                        const Tensor& dx, const Tensor& dbias);
  // h = x + r, then layer_norm of h as above; x, r, h, y contiguous [rows, n].
  virtual void add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps,
                              const Tensor& h, const Tensor& y, const Tensor& mean, const Tensor& rstd);
  // layer_norm_backward, then dx += dx_add (contiguous [rows, n]); dx defined.
  virtual void layer_norm_backward_add(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const Tensor& dx_add, const Tensor& dx,
                                       const Tensor& dgamma, const Tensor& dbeta);

  // ---- optimizers. One fused AdamW update of param, m, v in place from grad: one pass, no
  // temporaries. All four contiguous, same shape and dtype.
  virtual void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                          const AdamWStep& step) = 0;
};

Backend& backend_for(Device device);
Backend& cpu_backend();
Backend& cuda_backend();  // throws petl::Error when petl was built without CUDA or no GPU is present
bool cuda_available();    // built with CUDA and at least one GPU is visible

}  // namespace petl

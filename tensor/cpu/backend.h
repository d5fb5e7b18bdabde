// The CPU backend: Eigen for matrix products, OpenMP loops for everything else. The reference
// every other backend is tested against.
#pragma once
#include "tensor/backend.h"

namespace petl {

class CpuBackend final : public Backend {
 public:
  void upload(const Tensor& dst, const void* host) override;
  void download(const Tensor& src, void* host) override;
  void fill(const Tensor& out, double value) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void random_uniform(const Tensor& out, double low, double high, uint64_t seed, uint64_t offset) override;
  void random_normal(const Tensor& out, double mean, double std, uint64_t seed, uint64_t offset) override;

  void unary(UnaryOp op, const Tensor& x, double param, const Tensor& out) override;
  void unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param,
                      const Tensor& out) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) override;
  void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) override;

  void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner,
              const Tensor& out) override;
  void max_backward(const Tensor& g, const Tensor& x, const Tensor& y, int64_t outer, int64_t reduced,
                    int64_t inner, const Tensor& out) override;

  void softmax(const Tensor& x, bool log, const Tensor& out) override;
  void softmax_backward(const Tensor& g, const Tensor& y, bool log, const Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) override;

  void add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps,
                      const Tensor& h, const Tensor& y, const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward_add(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                               const Tensor& rstd, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                               const Tensor& dbeta) override;
  void bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias, const Tensor& out) override;
  void bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias, const Tensor& dx,
                                const Tensor& dbias) override;

  void matmul(const Tensor& a, const Tensor& c, const Tensor& out, bool accumulate) override;
  void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) override;
  void embedding_backward(const Tensor& g, const Tensor& ids, const Tensor& dweight) override;
  void cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& loss_sum,
                     const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t ignore_index,
                              double scale, const Tensor& dlogits) override;
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const AttentionOptions& opts, const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& key_mask, const Tensor& out, const Tensor& lse, const AttentionOptions& opts,
                          const Tensor& dq, const Tensor& dk, const Tensor& dv) override;
  void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const AdamWStep& step) override;
};

}  // namespace petl

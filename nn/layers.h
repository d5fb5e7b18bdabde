// The basic layers. A Linear holds its weight in either Hugging Face layout, so loading and saving
// a checkpoint is a renaming, never a conversion: GPT-2's Conv1D stores W as [in, out] (y = x W + b,
// the paper's row-vector equations), torch nn.Linear (BART) stores W^T as [out, in] and y = x W^T + b
// reads it through a transposed view, without a copy.
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"
#include "nn/sites.h"

namespace petl::nn {

enum class WeightLayout {
  InOut,  // weight [in, out]: GPT-2 Conv1D
  OutIn,  // weight [out, in]: torch nn.Linear (BART)
};

// y = x W + b, b [out]; initialized N(0, std) with zero bias (GPT-2 and BART use std 0.02).
// `site` lets a method add to or rescale y (LoRA, (IA)^3); nothing attached costs nothing.
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, double init_std = 0.02, Generator& gen = default_generator(),
         WeightLayout layout = WeightLayout::InOut);
  Tensor forward(const Tensor& x) const;
  // gelu(forward(x)); with nothing attached to the site the bias add and the GELU run as one
  // fused op (bias_gelu), otherwise the hook sees x W + b as always.
  Tensor forward_gelu(const Tensor& x, GeluApprox approx) const;
  // W in math layout [in, out]: the weight itself or a transposed view of it.
  Tensor math_weight() const;
  int64_t in_features() const { return math_weight().size(0); }
  int64_t out_features() const { return math_weight().size(1); }
  Tensor weight, bias;
  WeightLayout layout;
  LinearSite site;

 protected:
  void rebind_parameters() override;
};

// y[i] = E[ids[i]], E [vocab, dim].
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, double init_std = 0.02, Generator& gen = default_generator());
  Tensor forward(const Tensor& ids) const;
  Tensor weight;

 protected:
  void rebind_parameters() override;
};

// y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  // h = x + r and y = forward(h), fused (add_layer_norm).
  ResidualNorm forward_residual(const Tensor& x, const Tensor& r) const;
  Tensor weight, bias;
  double eps;

 protected:
  void rebind_parameters() override;
};

}  // namespace petl::nn

// The basic layers. Weights use GPT-2's layout: Linear stores W as [in, out] (Hugging Face's
// Conv1D), so y = x W + b reads exactly like the paper's equations.
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"

namespace petl::nn {

// y = x W + b, W [in, out], b [out]; initialized N(0, std) with zero bias (GPT-2 uses std 0.02).
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, double init_std = 0.02, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
};

// y[i] = E[ids[i]], E [vocab, dim].
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, double init_std = 0.02, Generator& gen = default_generator());
  Tensor forward(const Tensor& ids) const;
  Tensor weight;
};

// y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  double eps;
};

}  // namespace petl::nn

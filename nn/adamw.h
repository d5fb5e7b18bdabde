// AdamW (Loshchilov & Hutter 2019, Algorithm 2): Adam with weight decay decoupled from the
// gradient. For each trainable parameter p with gradient g, at step t:
//   m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
//   p <- p - lr * ( m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps)  +  wd * p )
// Frozen parameters are never handed to the optimizer, so they hold no m and v.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace petl::nn {

// Checked by the constructor: lr finite and >= 0, beta1 and beta2 in [0, 1), eps and
// weight_decay finite and >= 0.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class AdamW {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions opts = {});
  // One update from the accumulated gradients (parameters without a gradient are skipped).
  void step();
  void zero_grad();
  void set_lr(double lr);  // a finite lr >= 0, like the one in the options
  double lr() const { return opts_.lr; }
  int64_t steps() const { return t_; }

  // The state a resumed run restores (train --resume): the step count t and the moments m and v,
  // one per parameter in the order given to the constructor. load_state checks the count and shapes.
  const std::vector<Tensor>& first_moments() const { return m_; }
  const std::vector<Tensor>& second_moments() const { return v_; }
  void load_state(int64_t steps, const std::vector<Tensor>& m, const std::vector<Tensor>& v);

 private:
  std::vector<Tensor> params_, m_, v_;
  AdamWOptions opts_;
  int64_t t_ = 0;
};

}  // namespace petl::nn

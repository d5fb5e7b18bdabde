#include "nn/adamw.h"

#include <cmath>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl::nn {

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions opts) : params_(std::move(params)), opts_(opts) {
  for (const Tensor& p : params_) {
    PETL_CHECK(p.requires_grad(), "AdamW: a parameter of shape ", shape_str(p.shape()),
               " does not require a gradient; pass only trainable parameters");
    m_.push_back(zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(zeros(p.shape(), p.dtype(), p.device()));
  }
}

void AdamW::step() {
  NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1.0 - std::pow(opts_.beta1, double(t_)), bc2 = 1.0 - std::pow(opts_.beta2, double(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    // Loshchilov & Hutter, "Decoupled Weight Decay Regularization", Algorithm 2 (as torch.optim.AdamW):
    //   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
    //   p = p - lr (m / bc1 / (sqrt(v / bc2) + eps) + wd p),   bc_k = 1 - b_k^t
    m_[i] = opts_.beta1 * m_[i] + (1 - opts_.beta1) * g;
    v_[i] = opts_.beta2 * v_[i] + (1 - opts_.beta2) * (g * g);
    Tensor update = m_[i] / bc1 / (sqrt(v_[i] / bc2) + opts_.eps);
    if (opts_.weight_decay != 0.0) update = update + opts_.weight_decay * p;
    kernel::copy_(p, p - opts_.lr * update);  // in place: the parameter's storage is what the model holds
  }
}

void AdamW::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

}  // namespace petl::nn

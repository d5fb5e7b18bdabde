#include "nn/adamw.h"

#include <cmath>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl::nn {

namespace {
void check_lr(double lr) {
  PETL_CHECK(std::isfinite(lr) && lr >= 0, "AdamW: lr must be a finite number >= 0, got ", lr);
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions opts) : params_(std::move(params)), opts_(opts) {
  // The update divides by 1 - beta^t and sqrt(v) + eps: betas outside [0, 1), a negative eps or a
  // non-finite value would turn parameters into inf or NaN on the first step.
  check_lr(opts_.lr);
  PETL_CHECK(opts_.beta1 >= 0 && opts_.beta1 < 1, "AdamW: beta1 must be in [0, 1), got ", opts_.beta1);
  PETL_CHECK(opts_.beta2 >= 0 && opts_.beta2 < 1, "AdamW: beta2 must be in [0, 1), got ", opts_.beta2);
  PETL_CHECK(std::isfinite(opts_.eps) && opts_.eps >= 0, "AdamW: eps must be a finite number >= 0, got ", opts_.eps);
  PETL_CHECK(std::isfinite(opts_.weight_decay) && opts_.weight_decay >= 0,
             "AdamW: weight_decay must be a finite number >= 0, got ", opts_.weight_decay);
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
    // in one fused pass over p, g, m, v (tensor/cpu/adamw.cpp): no temporaries of the parameter's size.
    kernel::adamw_step_(p, g, m_[i], v_[i],
                        {.lr = opts_.lr, .beta1 = opts_.beta1, .beta2 = opts_.beta2, .eps = opts_.eps,
                         .weight_decay = opts_.weight_decay, .bias_correction1 = bc1, .bias_correction2 = bc2});
  }
}

void AdamW::load_state(int64_t steps, const std::vector<Tensor>& m, const std::vector<Tensor>& v) {
  PETL_CHECK(steps >= 0, "AdamW: a saved step count must be >= 0, got ", steps);
  PETL_CHECK(m.size() == params_.size() && v.size() == params_.size(), "AdamW: the saved state has ", m.size(),
             " first and ", v.size(), " second moments for ", params_.size(), " parameters");
  for (size_t i = 0; i < params_.size(); ++i) {
    PETL_CHECK(m[i].shape() == params_[i].shape() && v[i].shape() == params_[i].shape(), "AdamW: saved moment ", i,
               " has shape ", shape_str(m[i].shape()), " / ", shape_str(v[i].shape()), ", the parameter ",
               shape_str(params_[i].shape()));
    m_[i] = contiguous(to(m[i].detach(), params_[i].device()));
    v_[i] = contiguous(to(v[i].detach(), params_[i].device()));
  }
  t_ = steps;
}

void AdamW::set_lr(double lr) {
  check_lr(lr);
  opts_.lr = lr;
}

void AdamW::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

}  // namespace petl::nn

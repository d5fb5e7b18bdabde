#include "nn/adamw.h"

#include <cmath>

#include "autograd/graph.h"
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
  using kernel::binary;
  const double bc1 = 1.0 - std::pow(opts_.beta1, double(t_)), bc2 = 1.0 - std::pow(opts_.beta2, double(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    auto s = [&](double v) { return scalar(v, p.dtype(), p.device()); };
    m_[i] = binary(BinaryOp::Add, binary(BinaryOp::Mul, m_[i], s(opts_.beta1)), binary(BinaryOp::Mul, g, s(1 - opts_.beta1)));
    v_[i] = binary(BinaryOp::Add, binary(BinaryOp::Mul, v_[i], s(opts_.beta2)),
                   binary(BinaryOp::Mul, binary(BinaryOp::Mul, g, g), s(1 - opts_.beta2)));
    // update = m / bc1 / (sqrt(v / bc2) + eps) + wd * p
    Tensor denom = binary(BinaryOp::Add, kernel::unary(UnaryOp::Sqrt, binary(BinaryOp::Div, v_[i], s(bc2))), s(opts_.eps));
    Tensor update = binary(BinaryOp::Div, binary(BinaryOp::Div, m_[i], s(bc1)), denom);
    if (opts_.weight_decay != 0.0) update = binary(BinaryOp::Add, update, binary(BinaryOp::Mul, p, s(opts_.weight_decay)));
    kernel::copy_(p, binary(BinaryOp::Sub, p, binary(BinaryOp::Mul, update, s(opts_.lr))));
  }
}

void AdamW::set_lr(double lr) {
  check_lr(lr);
  opts_.lr = lr;
}

void AdamW::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

}  // namespace petl::nn

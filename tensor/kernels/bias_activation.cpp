// The bias add and activation after a Linear, as one raw op (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

namespace {
void check_bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias, const char* name) {
  PETL_CHECK(op == UnaryOp::GeluTanh || op == UnaryOp::GeluErf, name, ": the activation must be gelu_tanh or "
             "gelu_erf, got ", unary_op_name(op));
  check_floating(x, name);
  check_compatible(x, bias, name);
  PETL_CHECK(x.dim() >= 1 && bias.shape() == Shape{x.shape().back()}, name, ": bias of shape ",
             shape_str(bias.shape()), " for input ", shape_str(x.shape()), ", expected [",
             x.dim() ? x.shape().back() : 0, "]");
}
}  // namespace

Tensor bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias) {
  check_bias_activation(op, x, bias, "bias_activation");
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).bias_activation(op, contiguous(x), contiguous(bias), out);
  return out;
}

BiasActivationGrads bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias,
                                             bool need_dx, bool need_dbias) {
  check_bias_activation(op, x, bias, "bias_activation_backward");
  check_compatible(g, x, "bias_activation_backward");
  check_same_shape(g, x, "bias_activation_backward");
  BiasActivationGrads r;
  if (need_dx) r.dx = empty_like(x);
  if (need_dbias) r.dbias = empty_like(bias);
  if (x.numel() && (need_dx || need_dbias))
    backend_for(x.device()).bias_activation_backward(op, contiguous(g), contiguous(x), contiguous(bias), r.dx,
                                                     r.dbias);
  else if (need_dbias)
    fill_(r.dbias, 0.0);
  return r;
}

}  // namespace petl::kernel

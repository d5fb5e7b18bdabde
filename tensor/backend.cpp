// Backend selection by device (the backends themselves live in tensor/cpu/ and tensor/cuda/), and
// the default fused ops: each composed from the backend's own primitives, so a backend without a
// one-pass version (CUDA, for now) still computes them, in as many passes as primitives.
#include "tensor/backend.h"

#include "tensor/kernels.h"

namespace petl {

Backend& backend_for(Device device) { return device.is_cuda() ? cuda_backend() : cpu_backend(); }

void Backend::bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias, const Tensor& out) {
  binary(BinaryOp::Add, x, kernel::expand(bias, x.shape()), out);
  unary(op, out, 0.0, out);  // each element reads only its own index: in place is safe
}

void Backend::bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias,
                                       const Tensor& dx, const Tensor& dbias) {
  const int64_t n = x.shape().back(), rows = x.numel() / n;
  Tensor pre = Tensor::empty(x.shape(), x.dtype(), x.device());
  binary(BinaryOp::Add, x, kernel::expand(bias, x.shape()), pre);
  Tensor d = dx.defined() ? dx : Tensor::empty(x.shape(), x.dtype(), x.device());
  unary_backward(op, g, pre, Tensor(), 0.0, d);
  if (dbias.defined()) reduce(ReduceOp::Sum, d, 1, rows, n, kernel::view(dbias, {1, n}));
}

void Backend::add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta, double eps,
                             const Tensor& h, const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  binary(BinaryOp::Add, x, r, h);
  layer_norm(h, gamma, beta, eps, y, mean, rstd);
}

void Backend::layer_norm_backward_add(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                      const Tensor& rstd, const Tensor& dx_add, const Tensor& dx,
                                      const Tensor& dgamma, const Tensor& dbeta) {
  layer_norm_backward(g, x, gamma, mean, rstd, dx, dgamma, dbeta);
  binary(BinaryOp::Add, dx, dx_add, dx);
}

}  // namespace petl

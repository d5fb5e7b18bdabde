// Softmax and log-softmax along any axis, and their backward (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

namespace {
// Runs `f` on x with `axis` moved last and made contiguous; moves the result's axis back.
template <class F>
Tensor along_last_axis(const Tensor& x, int64_t axis, F&& f) {
  axis = normalize_axis(axis, x.dim(), "softmax");
  if (axis == x.dim() - 1) return f(contiguous(x));
  Tensor moved = contiguous(transpose(x, axis, -1));
  return transpose(f(moved), axis, -1);
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t axis, bool log) {
  check_floating(x, log ? "log_softmax" : "softmax");
  if (x.dim() == 0) return reshape(softmax(reshape(x, {1}), 0, log), {});  // one element: 1, or log 1 = 0
  return along_last_axis(x, axis, [&](const Tensor& xc) {
    Tensor out = empty_like(xc);
    if (xc.numel()) backend_for(xc.device()).softmax(xc, log, out);
    return out;
  });
}

Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t axis, bool log) {
  check_compatible(g, y, "softmax_backward");
  check_same_shape(g, y, "softmax_backward");
  if (y.dim() == 0) return reshape(softmax_backward(reshape(g, {1}), reshape(y, {1}), 0, log), {});
  axis = normalize_axis(axis, y.dim(), "softmax_backward");
  const bool last = axis == y.dim() - 1;
  Tensor gc = contiguous(last ? g : transpose(g, axis, -1));
  Tensor yc = contiguous(last ? y : transpose(y, axis, -1));
  Tensor out = empty_like(yc);
  if (yc.numel()) backend_for(y.device()).softmax_backward(gc, yc, log, out);
  return last ? out : transpose(out, axis, -1);
}

}  // namespace petl::kernel

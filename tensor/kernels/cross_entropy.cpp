// Cross-entropy over [N, classes] logits with an ignore index, and its backward (see kernels.h).
#include <algorithm>

#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

CrossEntropyOut cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  check_floating(logits, "cross_entropy");
  check_defined(targets, "cross_entropy", "targets");
  PETL_CHECK(logits.dim() == 2, "cross_entropy: logits must be [N, classes], got ", shape_str(logits.shape()));
  PETL_CHECK((targets.dtype() == DType::I64 && targets.shape() == Shape{logits.size(0)}),
             "cross_entropy: targets must be int64 [", logits.size(0), "], got ", dtype_name(targets.dtype()), " ",
             shape_str(targets.shape()));
  PETL_CHECK(targets.device() == logits.device(), "cross_entropy: targets on ", targets.device().str(),
             ", logits on ", logits.device().str());
  CrossEntropyOut r;
  Tensor host_targets = contiguous(to(targets, Device::cpu()));
  const int64_t* t = host_targets.data<int64_t>();
  const int64_t classes = logits.size(1);
  for (int64_t i = 0; i < targets.numel(); ++i) {
    if (t[i] == ignore_index) continue;
    PETL_CHECK(t[i] >= 0 && t[i] < classes, "cross_entropy: target ", t[i], " at row ", i, " is outside [0, ",
               classes, ") and is not the ignore index ", ignore_index);
    ++r.count;
  }
  Tensor loss_sum = Tensor::empty({}, logits.dtype(), logits.device());
  r.lse = Tensor::empty({logits.size(0)}, logits.dtype(), logits.device());
  if (logits.numel()) {
    backend_for(logits.device()).cross_entropy(contiguous(logits), contiguous(targets), ignore_index, loss_sum, r.lse);
  } else {
    fill_(loss_sum, 0.0);
  }
  // Mean over the rows that count; a batch whose every row is ignored has loss 0 (and gradient 0).
  r.loss = binary(BinaryOp::Div, loss_sum, scalar(double(std::max<int64_t>(r.count, 1)), logits.dtype(), logits.device()));
  return r;
}

Tensor cross_entropy_backward(const Tensor& g, const Tensor& logits, const Tensor& targets, const Tensor& lse,
                              int64_t ignore_index, int64_t count, bool reuse_logits) {
  PETL_CHECK(g.numel() == 1, "cross_entropy_backward: gradient must be a scalar, got ", shape_str(g.shape()));
  PETL_CHECK(!reuse_logits || logits.is_contiguous(),
             "cross_entropy_backward: the logits can hold the gradient only when contiguous, got ",
             shape_str(logits.shape()));
  const double scale = g.item() / double(std::max<int64_t>(count, 1));
  // Each element's gradient depends only on its own logit and the row's lse, so the backends may
  // write it over the logit it reads.
  Tensor d = reuse_logits ? logits : Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (d.numel())
    backend_for(logits.device()).cross_entropy_backward(contiguous(logits), contiguous(targets), lse, ignore_index,
                                                        scale, d);
  return d;
}

}  // namespace petl::kernel

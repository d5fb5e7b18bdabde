// Reductions over a set of axes, the amax backward and sum_to (see kernels.h).
#include <algorithm>

#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

namespace {

// Reduction plan: x as a contiguous [outer, reduced, inner] block with the output's shape.
struct ReducePlan {
  Tensor x;
  int64_t outer = 1, reduced = 1, inner = 1;
  Shape out_shape, keep_shape;
  std::vector<int64_t> order;  // when non-empty, x was permuted to [kept..., reduced...] and copied
};

ReducePlan plan_reduce(const Tensor& x, std::vector<int64_t> axes, bool keepdim, const char* op) {
  const int64_t nd = x.dim();
  if (axes.empty())
    for (int64_t a = 0; a < nd; ++a) axes.push_back(a);
  std::vector<bool> is_reduced(size_t(nd), false);
  for (int64_t& a : axes) {
    a = normalize_axis(a, nd, op);
    PETL_CHECK(!is_reduced[size_t(a)], op, ": axis ", a, " listed twice for shape ", shape_str(x.shape()));
    is_reduced[size_t(a)] = true;
  }
  std::sort(axes.begin(), axes.end());
  ReducePlan plan;
  for (int64_t a = 0; a < nd; ++a) {
    plan.keep_shape.push_back(is_reduced[size_t(a)] ? 1 : x.shape()[size_t(a)]);
    if (!is_reduced[size_t(a)] || keepdim) plan.out_shape.push_back(is_reduced[size_t(a)] ? 1 : x.shape()[size_t(a)]);
  }
  const bool block = axes.empty() || axes.back() - axes.front() + 1 == int64_t(axes.size());
  if (block && x.is_contiguous()) {
    plan.x = x;
    for (int64_t a = 0; a < nd; ++a) {
      const int64_t d = x.shape()[size_t(a)];
      if (axes.empty() || a < axes.front()) plan.outer *= d;
      else if (a > axes.back()) plan.inner *= d;
      else plan.reduced *= d;
    }
    return plan;
  }
  // Move the reduced axes last and copy: [kept..., reduced...].
  for (int64_t a = 0; a < nd; ++a)
    if (!is_reduced[size_t(a)]) plan.order.push_back(a), plan.outer *= x.shape()[size_t(a)];
  for (int64_t a : axes) plan.order.push_back(a), plan.reduced *= x.shape()[size_t(a)];
  plan.x = contiguous(permute(x, plan.order));
  return plan;
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  const char* name = op == ReduceOp::Sum ? "sum" : op == ReduceOp::Mean ? "mean" : "max";
  check_floating(x, name);
  ReducePlan plan = plan_reduce(x, std::move(axes), keepdim, name);
  PETL_CHECK(op != ReduceOp::Max || plan.reduced > 0, "max: reduction over an empty axis of shape ",
             shape_str(x.shape()));
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  if (out.numel()) backend_for(x.device()).reduce(op, plan.x, plan.outer, plan.reduced, plan.inner, out);
  return out;
}

Tensor max_backward(const Tensor& g, const Tensor& x, const Tensor& y, std::vector<int64_t> axes, bool keepdim) {
  check_compatible(g, x, "max_backward");
  ReducePlan plan = plan_reduce(x, axes, keepdim, "max_backward");
  Tensor out = Tensor::empty(plan.x.shape(), x.dtype(), x.device());
  if (out.numel())
    backend_for(x.device()).max_backward(contiguous(g), plan.x, contiguous(y), plan.outer, plan.reduced,
                                         plan.inner, out);
  if (plan.order.empty()) return out;
  // Undo the [kept..., reduced...] permutation of plan_reduce.
  std::vector<int64_t> inverse(plan.order.size());
  for (size_t i = 0; i < plan.order.size(); ++i) inverse[size_t(plan.order[i])] = int64_t(i);
  return permute(out, inverse);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to", "input");
  if (x.shape() == shape) return x;
  PETL_CHECK(broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(), "sum_to: shape ", shape_str(shape),
             " does not broadcast to ", shape_str(x.shape()));
  std::vector<int64_t> axes;
  const int64_t lead = x.dim() - int64_t(shape.size());
  for (int64_t a = 0; a < x.dim(); ++a)
    if (a < lead || (shape[size_t(a - lead)] == 1 && x.shape()[size_t(a)] != 1)) axes.push_back(a);
  if (axes.empty()) return reshape(x, shape);
  return reshape(reduce(ReduceOp::Sum, x, axes, true), shape);
}

}  // namespace petl::kernel

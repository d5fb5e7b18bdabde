// Argument checks, output allocation and device dispatch for every raw op (see kernels.h).
#include "tensor/kernels.h"

#include <algorithm>
#include <numeric>

namespace petl {

KernelCounters& kernel_counters() {
  static KernelCounters counters;
  return counters;
}

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::GeluTanh: return "gelu_tanh";
    case UnaryOp::GeluErf: return "gelu_erf";
    case UnaryOp::Pow: return "pow";
  }
  return "?";
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "?";
}

Backend& backend_for(Device device) { return device.is_cuda() ? cuda_backend() : cpu_backend(); }

}  // namespace petl

namespace petl::kernel {

namespace {

void check_defined(const Tensor& t, const char* op, const char* what) {
  PETL_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

// Same dtype and device, the op's name and both shapes in the message otherwise.
void check_compatible(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op, "first operand");
  check_defined(b, op, "second operand");
  PETL_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch, ", dtype_name(a.dtype()), " ", shape_str(a.shape()),
             " vs ", dtype_name(b.dtype()), " ", shape_str(b.shape()));
  PETL_CHECK(a.device() == b.device(), op, ": device mismatch, ", a.device().str(), " ", shape_str(a.shape()),
             " vs ", b.device().str(), " ", shape_str(b.shape()));
}

void check_floating(const Tensor& t, const char* op) {
  check_defined(t, op, "input");
  PETL_CHECK(is_floating(t.dtype()), op, ": expected a floating tensor, got ", dtype_name(t.dtype()), " ",
             shape_str(t.shape()));
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  PETL_CHECK(a.shape() == b.shape(), op, ": shape mismatch, ", shape_str(a.shape()), " vs ", shape_str(b.shape()));
}

Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

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

// ---- copies and conversions

void fill_(const Tensor& x, double value) {
  check_defined(x, "fill_", "target");
  if (x.dtype() == DType::I64) to_int64_element(value, "fill_");
  x.bump_version();
  if (x.numel()) backend_for(x.device()).fill(x, value);
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_defined(dst, "copy_", "destination");
  check_defined(src, "copy_", "source");
  Tensor s = src.device() == dst.device() ? src : to(src, dst.device());
  s = expand(s, dst.shape());
  dst.bump_version();
  if (dst.numel()) backend_for(dst.device()).copy(dst, s);
}

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous", "input");
  return x.is_contiguous() ? x : clone(x);
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone", "input");
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).copy(out, x);
  return out;
}

Tensor to(const Tensor& x, Device device) {
  check_defined(x, "to", "input");
  if (x.device() == device) return x;
  if (x.is_cuda() && device.is_cuda()) return to(to(x, Device::cpu()), device);  // device to device via host
  Tensor src = contiguous(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  if (device.is_cuda()) backend_for(device).upload(out, src.raw_data());
  else backend_for(src.device()).download(src, out.raw_data());
  return out;
}

Tensor to(const Tensor& x, DType dtype) {
  check_defined(x, "to", "input");
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  if (x.numel()) backend_for(x.device()).copy(out, x);
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  PETL_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs.front();
  axis = normalize_axis(axis, first.dim(), "concat");
  Shape shape = first.shape();
  shape[size_t(axis)] = 0;
  for (const Tensor& x : xs) {
    check_compatible(first, x, "concat");
    bool same = x.dim() == first.dim();
    for (int64_t a = 0; same && a < x.dim(); ++a) same = a == axis || x.shape()[size_t(a)] == first.shape()[size_t(a)];
    PETL_CHECK(same, "concat: shapes ", shape_str(first.shape()), " and ", shape_str(x.shape()),
               " differ outside axis ", axis);
    shape[size_t(axis)] += x.shape()[size_t(axis)];
  }
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  int64_t at = 0;
  for (const Tensor& x : xs) {
    const int64_t n = x.shape()[size_t(axis)];
    if (n) copy_(slice(out, axis, at, at + n), x);
    at += n;
  }
  return out;
}

// ---- elementwise

Tensor unary(UnaryOp op, const Tensor& x, double param) {
  check_floating(x, unary_op_name(op));
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).unary(op, x, param, out);
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, double param) {
  check_compatible(g, x, unary_op_name(op));
  check_same_shape(g, x, unary_op_name(op));
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).unary_backward(op, g, x, y, param, out);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  check_compatible(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (out.numel()) backend_for(a.device()).binary(op, expand(a, shape), expand(b, shape), out);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined(x, "masked_fill", "input");
  check_defined(mask, "masked_fill", "mask");
  PETL_CHECK(x.device() == mask.device(), "masked_fill: device mismatch, input ", x.device().str(), " ",
             shape_str(x.shape()), " vs mask ", mask.device().str(), " ", shape_str(mask.shape()));
  PETL_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), "masked_fill: mask ",
             shape_str(mask.shape()), " does not broadcast to input ", shape_str(x.shape()));
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).masked_fill(x, expand(mask, x.shape()), value, out);
  return out;
}

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  check_floating(x, "dropout");
  PETL_CHECK(p >= 0.0 && p < 1.0, "dropout: probability must be in [0, 1), got ", p);
  Tensor out = empty_like(x);
  if (x.numel()) backend_for(x.device()).dropout(x, p, seed, offset, out);
  return out;
}

// ---- reductions

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

// ---- normalization

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

LayerNormOut layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_floating(x, "layer_norm");
  PETL_CHECK(x.dim() >= 1, "layer_norm: input must have at least 1 dim, got shape ", shape_str(x.shape()));
  const int64_t n = x.shape().back();
  for (const Tensor* p : {&gamma, &beta}) {
    if (!p->defined()) continue;
    check_compatible(x, *p, "layer_norm");
    PETL_CHECK(p->shape() == Shape{n}, "layer_norm: weight/bias of shape ", shape_str(p->shape()),
               " for input ", shape_str(x.shape()), ", expected [", n, "]");
  }
  Tensor xc = contiguous(x);
  const int64_t rows = n ? x.numel() / n : 0;
  LayerNormOut r{empty_like(xc), Tensor::empty({rows}, x.dtype(), x.device()),
                 Tensor::empty({rows}, x.dtype(), x.device())};
  if (x.numel())
    backend_for(x.device()).layer_norm(xc, gamma.defined() ? contiguous(gamma) : gamma,
                                       beta.defined() ? contiguous(beta) : beta, eps, r.y, r.mean, r.rstd);
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, bool need_dx, bool need_dgamma, bool need_dbeta) {
  check_compatible(g, x, "layer_norm_backward");
  check_same_shape(g, x, "layer_norm_backward");
  const int64_t n = x.shape().back();
  LayerNormGrads r;
  if (need_dx) r.dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_dgamma) r.dgamma = Tensor::empty({n}, x.dtype(), x.device());
  if (need_dbeta) r.dbeta = Tensor::empty({n}, x.dtype(), x.device());
  if (x.numel() && (need_dx || need_dgamma || need_dbeta))
    backend_for(x.device()).layer_norm_backward(contiguous(g), contiguous(x),
                                                gamma.defined() ? contiguous(gamma) : gamma, mean, rstd, r.dx,
                                                r.dgamma, r.dbeta);
  else {
    for (Tensor* t : {&r.dx, &r.dgamma, &r.dbeta})
      if (t->defined()) fill_(*t, 0.0);
  }
  return r;
}

// ---- products and lookups

namespace {
// A [batch, M, K]-style operand the backend accepts: unit stride in one of the last two dims.
Tensor as_gemm_operand(const Tensor& x) {
  const int64_t r = x.strides()[2], c = x.strides()[1];
  const bool row_major = r == 1 || x.shape()[2] == 1;
  const bool col_major = c == 1 || x.shape()[1] == 1;
  return row_major || col_major ? x : contiguous(x);
}

// Flattens the leading batch dims of x (already expanded to batch_shape) into one.
Tensor flatten_batch(const Tensor& x, const Shape& batch_shape) {
  Shape flat = {numel_of(batch_shape), x.shape()[x.dim() - 2], x.shape()[x.dim() - 1]};
  if (std::optional<Tensor> v = try_view(x, flat)) return *v;
  return view(contiguous(x), flat);  // a broadcast across several dims that no stride expresses
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_compatible(a, b, "matmul");
  check_floating(a, "matmul");
  PETL_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: both operands need at least 2 dims, got ", shape_str(a.shape()),
             " @ ", shape_str(b.shape()));
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  PETL_CHECK(b.size(-2) == K, "matmul: inner dimensions differ, ", shape_str(a.shape()), " @ ", shape_str(b.shape()),
             " (", K, " vs ", b.size(-2), ")");
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  kernel_counters().matmul_calls += 1;
  kernel_counters().matmul_flops += 2.0 * double(numel_of(batch)) * double(M) * double(N) * double(K);
  Backend& be = backend_for(a.device());
  if (K == 0) {
    fill_(out, 0.0);
    return out;
  }
  // x[..., M, K] @ W[K, N] (a Linear layer): one GEMM of [batch*M, K] @ [K, N] when x allows it.
  if (b.dim() == 2 && a.dim() > 2) {
    if (std::optional<Tensor> a2 = try_view(a, {-1, K})) {
      be.matmul(as_gemm_operand(unsqueeze(*a2, 0)), as_gemm_operand(unsqueeze(b, 0)),
                view(out, {1, numel_of(batch) * M, N}), false);
      return out;
    }
  }
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {K, N});
  be.matmul(as_gemm_operand(flatten_batch(expand(a, a_full), batch)),
            as_gemm_operand(flatten_batch(expand(b, b_full), batch)), view(out, {numel_of(batch), M, N}), false);
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_floating(weight, "embedding");
  check_defined(ids, "embedding", "ids");
  PETL_CHECK(weight.dim() == 2, "embedding: weight must be [num_embeddings, dim], got ", shape_str(weight.shape()));
  PETL_CHECK(ids.dtype() == DType::I64, "embedding: ids must be int64, got ", dtype_name(ids.dtype()), " ",
             shape_str(ids.shape()));
  PETL_CHECK(ids.device() == weight.device(), "embedding: ids on ", ids.device().str(), ", weight on ",
             weight.device().str());
  Shape shape = ids.shape();
  shape.push_back(weight.size(1));
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());
  if (out.numel()) backend_for(weight.device()).embedding(contiguous(weight), contiguous(ids), out);
  return out;
}

Tensor embedding_backward(const Tensor& g, const Tensor& ids, int64_t num_embeddings) {
  check_floating(g, "embedding_backward");
  Shape expected = ids.shape();
  expected.push_back(g.shape().back());
  PETL_CHECK(g.shape() == expected, "embedding_backward: gradient ", shape_str(g.shape()), " for ids ",
             shape_str(ids.shape()), ", expected ", shape_str(expected));
  Tensor dweight = zeros({num_embeddings, g.shape().back()}, g.dtype(), g.device());
  if (g.numel()) backend_for(g.device()).embedding_backward(contiguous(g), contiguous(ids), dweight);
  return dweight;
}

// ---- losses

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
                              int64_t ignore_index, int64_t count) {
  PETL_CHECK(g.numel() == 1, "cross_entropy_backward: gradient must be a scalar, got ", shape_str(g.shape()));
  const double scale = g.item() / double(std::max<int64_t>(count, 1));
  Tensor d = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (d.numel())
    backend_for(logits.device()).cross_entropy_backward(contiguous(logits), contiguous(targets), lse, ignore_index,
                                                        scale, d);
  return d;
}

// ---- attention

namespace {
void check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask) {
  check_floating(q, "attention");
  check_compatible(q, k, "attention");
  check_compatible(q, v, "attention");
  PETL_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention: q, k, v must be [B, H, T, D], got ",
             shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
  PETL_CHECK(k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3), "attention: k ",
             shape_str(k.shape()), " does not match q ", shape_str(q.shape()), " (expected [B, H, Tk, D])");
  PETL_CHECK(v.size(0) == q.size(0) && v.size(1) == q.size(1) && v.size(2) == k.size(2), "attention: v ",
             shape_str(v.shape()), " does not match k ", shape_str(k.shape()), " (expected [B, H, Tk, Dv])");
  if (key_mask.defined()) {
    PETL_CHECK((key_mask.shape() == Shape{q.size(0), k.size(2)}), "attention: key_mask ", shape_str(key_mask.shape()),
               ", expected [B, Tk] = [", q.size(0), ", ", k.size(2), "]");
    PETL_CHECK(key_mask.device() == q.device(), "attention: key_mask on ", key_mask.device().str(), ", q on ",
               q.device().str());
  }
}
// The mask in q's dtype, contiguous, as the backends read it (undefined stays undefined).
Tensor mask_as(const Tensor& key_mask, const Tensor& q) {
  return key_mask.defined() ? contiguous(to(key_mask, q.dtype())) : key_mask;
}
}  // namespace

AttentionOut attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const AttentionOptions& opts) {
  check_attention(q, k, v, key_mask);
  AttentionOut r;
  r.out = Tensor::empty({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype(), q.device());
  r.lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, q.dtype(), q.device());
  if (r.out.numel() || r.lse.numel())
    backend_for(q.device()).attention(contiguous(q), contiguous(k), contiguous(v), mask_as(key_mask, q), opts,
                                      r.out, r.lse);
  return r;
}

AttentionGrads attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                  const AttentionOptions& opts, bool need_dq, bool need_dk, bool need_dv) {
  check_attention(q, k, v, key_mask);
  check_same_shape(g, out, "attention_backward");
  AttentionGrads r;
  if (need_dq) r.dq = zeros(q.shape(), q.dtype(), q.device());
  if (need_dk) r.dk = zeros(k.shape(), k.dtype(), k.device());
  if (need_dv) r.dv = zeros(v.shape(), v.dtype(), v.device());
  if ((need_dq || need_dk || need_dv) && g.numel())
    backend_for(q.device()).attention_backward(contiguous(g), contiguous(q), contiguous(k), contiguous(v),
                                               mask_as(key_mask, q), out, lse, opts, r.dq, r.dk, r.dv);
  return r;
}

}  // namespace petl::kernel

// Batched matrix products with broadcast batch dims (see kernels.h).
#include <optional>

#include "tensor/kernels/checks.h"

namespace petl {

KernelCounters& kernel_counters() {
  static KernelCounters counters;
  return counters;
}

}  // namespace petl

namespace petl::kernel {

using namespace detail;

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

}  // namespace petl::kernel

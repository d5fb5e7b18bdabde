// Elementwise raw ops: unary, binary (NumPy broadcasting), masked fill, dropout (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl {

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

}  // namespace petl

namespace petl::kernel {

using namespace detail;

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

void add_(const Tensor& dst, const Tensor& src) {
  check_compatible(dst, src, "add_");
  PETL_CHECK(broadcast_shapes(dst.shape(), src.shape(), "add_") == dst.shape(), "add_: ", shape_str(src.shape()),
             " does not broadcast to the destination ", shape_str(dst.shape()));
  PETL_CHECK(dst.is_contiguous(), "add_: the destination ", shape_str(dst.shape()), " must be contiguous");
  if (dst.numel()) backend_for(dst.device()).binary(BinaryOp::Add, dst, expand(src, dst.shape()), dst);
  dst.bump_version();
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

}  // namespace petl::kernel

// Fills, copies, dtype and device conversions, concatenation (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

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

}  // namespace petl::kernel

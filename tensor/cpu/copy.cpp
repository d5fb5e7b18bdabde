// CPU host transfers, fills and copies (with dtype conversion).
#include <cstring>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::upload(const Tensor& dst, const void* host) {
  std::memcpy(dst.raw_data(), host, std::size_t(dst.numel()) * dtype_size(dst.dtype()));
}

void CpuBackend::download(const Tensor& src, void* host) {
  std::memcpy(host, src.raw_data(), std::size_t(src.numel()) * dtype_size(src.dtype()));
}

void CpuBackend::fill(const Tensor& out, double value) {
  dispatch_all(out.dtype(), "fill", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    scalar_t* p = out.data<scalar_t>();
    const scalar_t v = scalar_t(value);
    cpu::strided_loop<1>(out.shape(), {&out.strides()}, [&](int64_t, auto o) { p[o[0]] = v; });
  });
}

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  dispatch_all(dst.dtype(), "copy", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    using dst_t = scalar_t;
    dst_t* d = dst.data<dst_t>();
    dispatch_all(src.dtype(), "copy", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
      const scalar_t* s = src.data<scalar_t>();
      if (dst.dtype() == src.dtype() && cpu::all_contiguous(dst.shape(), {&dst.strides(), &src.strides()})) {
        std::memcpy(static_cast<void*>(d), s, std::size_t(dst.numel()) * sizeof(dst_t));
        return;
      }
      cpu::strided_loop<2>(dst.shape(), {&dst.strides(), &src.strides()},
                           [&](int64_t, auto o) { d[o[0]] = dst_t(s[o[1]]); });
    });
  });
}

}  // namespace petl

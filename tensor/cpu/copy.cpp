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
  dispatch_all(out.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.data<T>();
    const T v = T(value);
    cpu::strided_loop<1>(out.shape(), {&out.strides()}, [&](int64_t, auto o) { p[o[0]] = v; });
  });
}

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  dispatch_all(dst.dtype(), "copy", [&](auto dst_tag) {
    using D = typename decltype(dst_tag)::type;
    D* d = dst.data<D>();
    dispatch_all(src.dtype(), "copy", [&](auto src_tag) {
      using S = typename decltype(src_tag)::type;
      const S* s = src.data<S>();
      if (dst.dtype() == src.dtype() && cpu::all_contiguous(dst.shape(), {&dst.strides(), &src.strides()})) {
        std::memcpy(static_cast<void*>(d), s, std::size_t(dst.numel()) * sizeof(D));
        return;
      }
      cpu::strided_loop<2>(dst.shape(), {&dst.strides(), &src.strides()},
                           [&](int64_t, auto o) { d[o[0]] = D(s[o[1]]); });
    });
  });
}

}  // namespace petl

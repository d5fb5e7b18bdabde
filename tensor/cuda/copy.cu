// CUDA host <-> device transfers, fills and copies (with dtype conversion).
#include <cmath>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/strided_loop.cuh"

namespace petl {

namespace {

template <class T>
struct FillFn {
  T* p;
  T value;
  __device__ void operator()(int64_t, const int64_t (&off)[1]) const { p[off[0]] = value; }
};

template <class D, class S>
struct CopyFn {
  D* dst;
  const S* src;
  __device__ void operator()(int64_t, const int64_t (&off)[2]) const { dst[off[0]] = D(src[off[1]]); }
};

template <class T>
void fill_typed(const Tensor& out, double value) {
  const cuda::Context& ctx = cuda::context_of(out);
  if (value == 0.0 && !std::signbit(value) && out.is_contiguous()) {  // all-zero bytes are +0 in every dtype
    PETL_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, std::size_t(out.numel()) * sizeof(T), ctx.stream));
    return;
  }
  cuda::launch_strided<1>("fill", ctx, out.shape(), {&out.strides()}, FillFn<T>{out.data<T>(), T(value)});
}

template <class D, class S>
void copy_typed(const Tensor& dst, const Tensor& src) {
  const cuda::Context& ctx = cuda::context_of(dst);
  cuda::launch_strided<2>("copy", ctx, dst.shape(), {&dst.strides(), &src.strides()},
                          CopyFn<D, S>{dst.data<D>(), src.data<S>()});
}

}  // namespace

void CudaBackend::upload(const Tensor& dst, const void* host) {
  const std::size_t bytes = std::size_t(dst.numel()) * dtype_size(dst.dtype());
  if (bytes == 0) return;
  cudaStream_t stream = cuda::stream_of(dst);
  PETL_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), host, bytes, cudaMemcpyHostToDevice, stream));
  // The caller may free or reuse `host` as soon as we return.
  PETL_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void CudaBackend::download(const Tensor& src, void* host) {
  const std::size_t bytes = std::size_t(src.numel()) * dtype_size(src.dtype());
  if (bytes == 0) return;
  cudaStream_t stream = cuda::stream_of(src);
  PETL_CUDA_CHECK(cudaMemcpyAsync(host, src.raw_data(), bytes, cudaMemcpyDeviceToHost, stream));
  PETL_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void CudaBackend::fill(const Tensor& out, double value) {
  dispatch_all(out.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    fill_typed<T>(out, value);
  });
}

void CudaBackend::copy(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  const cuda::Context& ctx = cuda::context_of(dst);
  // Same dtype and the same dense row-major layout: one device-to-device memcpy.
  // (is_contiguous is false for a broadcast source: a stride of 0 on a dim of size > 1.)
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    PETL_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), std::size_t(dst.numel()) * dtype_size(dst.dtype()),
                                    cudaMemcpyDeviceToDevice, ctx.stream));
    return;
  }
  dispatch_all(dst.dtype(), "copy", [&](auto dst_tag) {
    using D = typename decltype(dst_tag)::type;
    dispatch_all(src.dtype(), "copy", [&](auto src_tag) {
      using S = typename decltype(src_tag)::type;
      copy_typed<D, S>(dst, src);
    });
  });
}

}  // namespace petl

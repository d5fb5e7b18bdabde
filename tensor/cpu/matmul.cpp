// Batched GEMM through Eigen: out[b] (=|+=) a[b] @ c[b]. Each operand matrix is mapped in place,
// as row-major when its last dim has unit stride and as column-major (a transposed view) otherwise,
// so transposes in backward cost no copy.
#include "tensor/cpu/backend.h"
#include "tensor/cpu/eigen_maps.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

template <class T>
void gemm_one(const T* a, int64_t a_rs, int64_t a_cs, const T* c, int64_t c_rs, int64_t c_cs, T* out, int64_t M,
              int64_t K, int64_t N, bool accumulate) {
  cpu::RowMap<T> o(out, M, N, Eigen::OuterStride<>(N));
  // Four layouts: (a row/col-major) x (c row/col-major). A unit stride on a size-1 dim is either.
  auto run = [&](const auto& A, const auto& C) {
    if (accumulate) o.noalias() += A * C;
    else o.noalias() = A * C;
  };
  const bool a_row = a_cs == 1 || K == 1;
  const bool c_row = c_cs == 1 || N == 1;
  if (a_row && c_row)
    run(cpu::ConstRowMap<T>(a, M, K, Eigen::OuterStride<>(a_rs)), cpu::ConstRowMap<T>(c, K, N, Eigen::OuterStride<>(c_rs)));
  else if (a_row)
    run(cpu::ConstRowMap<T>(a, M, K, Eigen::OuterStride<>(a_rs)), cpu::ConstColMap<T>(c, K, N, Eigen::OuterStride<>(c_cs)));
  else if (c_row)
    run(cpu::ConstColMap<T>(a, M, K, Eigen::OuterStride<>(a_cs)), cpu::ConstRowMap<T>(c, K, N, Eigen::OuterStride<>(c_rs)));
  else
    run(cpu::ConstColMap<T>(a, M, K, Eigen::OuterStride<>(a_cs)), cpu::ConstColMap<T>(c, K, N, Eigen::OuterStride<>(c_cs)));
}

}  // namespace

void CpuBackend::matmul(const Tensor& a, const Tensor& c, const Tensor& out, bool accumulate) {
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t batch = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
    const T* pa = a.data<T>();
    const T* pc = c.data<T>();
    T* po = out.data<T>();
    // Eigen leading dims must be >= 1 even for degenerate (size-1) dims.
    const int64_t a_rs = std::max<int64_t>(a.strides()[1], 1), a_cs = std::max<int64_t>(a.strides()[2], 1);
    const int64_t c_rs = std::max<int64_t>(c.strides()[1], 1), c_cs = std::max<int64_t>(c.strides()[2], 1);
    const int64_t a_bs = a.strides()[0], c_bs = c.strides()[0];
    auto one = [&](int64_t b) {
      gemm_one(pa + b * a_bs, a_rs, a_cs, pc + b * c_bs, c_rs, c_cs, po + b * M * N, M, K, N, accumulate);
    };
    // Small matrices: one per thread. Large ones: Eigen splits each product across threads itself
    // (it runs single-threaded when called inside an OpenMP parallel region).
    const bool small = double(M) * double(N) * double(K) < 128.0 * 128.0 * 128.0;
    const bool worth_threads = double(batch) * double(M) * double(N) * double(K) >= double(cpu::kParallelGrain) * 16;
    if (batch > 1 && small) {
#pragma omp parallel for if (worth_threads)
      for (int64_t b = 0; b < batch; ++b) one(b);
    } else {
      for (int64_t b = 0; b < batch; ++b) one(b);
    }
  });
}

}  // namespace petl

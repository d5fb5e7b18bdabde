// Batched GEMM on the CPU: out[b] (=|+=) a[b] @ c[b], each product one cpu::gemm call (OpenBLAS,
// BLIS or Eigen, see gemm.h). Every operand is passed in place with its storage order and leading
// dimension, so transposed and row-strided views (backward's a^T and b^T, a slice of a wider
// matrix) cost no copy; only a layout BLAS cannot express (two non-unit strides, broadcast rows)
// is first copied into a contiguous buffer.
#include <omp.h>

#include <climits>
#include <optional>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {

// Operand x [batch, R, C] as (data, layout, batch stride); copies x into `holder` when its strides
// fit no BLAS layout.
template <class T>
struct Operand {
  const T* data = nullptr;
  cpu::GemmLayout layout;
  int64_t batch_stride = 0;
};

template <class T>
Operand<T> operand_of(const Tensor& x, Tensor& holder) {
  const int64_t R = x.size(1), C = x.size(2);
  const Tensor* source = &x;
  std::optional<cpu::GemmLayout> layout = cpu::gemm_layout(R, C, x.strides()[1], x.strides()[2]);
  if (!layout) {
    holder = Tensor::empty(x.shape(), x.dtype(), x.device());
    backend_for(x.device()).copy(holder, x);
    source = &holder;
    layout = cpu::gemm_layout(R, C, holder.strides()[1], holder.strides()[2]);
    PETL_CHECK(layout.has_value(), "matmul: internal error, a contiguous [", R, ", ", C, "] matrix has no BLAS layout");
  }
  return {source->data<T>(), *layout, source->size(0) > 1 ? source->strides()[0] : 0};
}

// BLAS takes 32-bit sizes; a matrix this large gets an error instead of a wrapped size.
void check_blas_int(int64_t v, const char* what) {
  PETL_CHECK(v <= INT_MAX, "matmul: ", what, " ", v, " exceeds the GEMM kernel's 32-bit limit (", INT_MAX, ")");
}

}  // namespace

void CpuBackend::matmul(const Tensor& a, const Tensor& c, const Tensor& out, bool accumulate) {
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t batch = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
    Tensor a_holder, c_holder;
    const Operand<T> A = operand_of<T>(a, a_holder), C = operand_of<T>(c, c_holder);
    for (int64_t v : {M, N, K}) check_blas_int(v, "a dimension");
    check_blas_int(A.layout.ld, "a leading dimension");
    check_blas_int(C.layout.ld, "a leading dimension");
    T* po = out.data<T>();
    const int64_t ldo = std::max<int64_t>(N, 1);
    auto one = [&](int64_t b) {
      cpu::gemm<T>(M, N, K, A.data + b * A.batch_stride, A.layout, C.data + b * C.batch_stride, C.layout,
                   po + b * M * N, ldo, accumulate);
    };
    // A batch (attention's per-head products): one product per thread, each single-threaded; this
    // needs no synchronization inside a product, where a threaded GEMM on a 256x256x64 product
    // spends more time in its barriers than in arithmetic (docs/performance.md, "GEMM", section 5).
    // A batch too short to share evenly among the threads, of products large enough to split, and a
    // single product: one after the other, the GEMM kernel splitting each across the threads
    // itself.
    const double macs = double(M) * double(N) * double(K);
    const bool small = macs < 128.0 * 128.0 * 128.0;
    const bool even_share = batch >= 4 * int64_t(omp_get_max_threads());
    const bool worth_threads = double(batch) * macs >= double(cpu::kParallelGrain) * 16;
    if (batch > 1 && (small || even_share)) {
#pragma omp parallel for if (worth_threads)
      for (int64_t b = 0; b < batch; ++b) one(b);
    } else {
      for (int64_t b = 0; b < batch; ++b) one(b);
    }
  });
}

}  // namespace petl

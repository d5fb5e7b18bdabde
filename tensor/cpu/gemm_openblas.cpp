// cpu::gemm through OpenBLAS's cblas_?gemm (PETL_BLAS=openblas, the default when found). The
// OpenMP build of OpenBLAS (Debian libopenblas0-openmp) splits a product over omp_get_max_threads()
// threads taken from the same OpenMP runtime as ours, and runs single-threaded when called from
// inside a parallel region, so the two never oversubscribe the cores.
#include <cblas.h>

#include <string>

#include "tensor/cpu/gemm.h"

namespace petl::cpu {

namespace {
// Row-major product with each operand's own storage order as BLAS's transpose flag:
// a column-major [R, C] matrix is the transpose of the row-major [C, R] one it stores.
CBLAS_TRANSPOSE op_of(GemmLayout l) { return l.column_major ? CblasTrans : CblasNoTrans; }

// A product with one row (decoding: x [1, K] @ W [K, N]) or one column is a matrix-vector product.
// OpenBLAS 0.3.21's sgemm does not forward such shapes to gemv: it packs W into GEMM panels on
// every call (the whole weight, for one row of output) before computing, which made one decoding
// step several times slower than reading W once (docs/performance.md, "Decoding"). gemv reads the
// matrix once, in its own storage order.
//   M = 1:  out[n] = sum_k a[k] W[k, n],  i.e. out = W^T a (W row-major) or out = (W^T stored) a
//   N = 1:  out[m] = sum_k A[m, k] b[k],  i.e. out = A b
// A vector's stride: the [1, K] row a is contiguous when row-major, else its elements are ld apart;
// the [K, 1] column b the other way round.
template <class T, class Gemv>
bool try_gemv(int64_t M, int64_t N, int64_t K, const T* a, GemmLayout al, const T* b, GemmLayout bl, T* out,
              int64_t ldo, bool accumulate, Gemv gemv) {
  const T beta = accumulate ? T(1) : T(0);
  if (M == 1) {
    const blasint inc_a = al.column_major ? blasint(al.ld) : 1;
    if (bl.column_major)  // W^T stored row-major [N, K]
      gemv(CblasRowMajor, CblasNoTrans, blasint(N), blasint(K), T(1), b, blasint(bl.ld), a, inc_a, beta, out, 1);
    else  // W stored row-major [K, N]
      gemv(CblasRowMajor, CblasTrans, blasint(K), blasint(N), T(1), b, blasint(bl.ld), a, inc_a, beta, out, 1);
    return true;
  }
  if (N == 1) {
    const blasint inc_b = bl.column_major ? 1 : blasint(bl.ld);
    if (al.column_major)  // A^T stored row-major [K, M]
      gemv(CblasRowMajor, CblasTrans, blasint(K), blasint(M), T(1), a, blasint(al.ld), b, inc_b, beta, out,
           blasint(ldo));
    else
      gemv(CblasRowMajor, CblasNoTrans, blasint(M), blasint(K), T(1), a, blasint(al.ld), b, inc_b, beta, out,
           blasint(ldo));
    return true;
  }
  return false;
}
}  // namespace

template <>
void gemm<float>(int64_t M, int64_t N, int64_t K, const float* a, GemmLayout al, const float* b, GemmLayout bl,
                 float* out, int64_t ldo, bool accumulate) {
  if (try_gemv(M, N, K, a, al, b, bl, out, ldo, accumulate, cblas_sgemv)) return;
  cblas_sgemm(CblasRowMajor, op_of(al), op_of(bl), blasint(M), blasint(N), blasint(K), 1.0f, a, blasint(al.ld), b,
              blasint(bl.ld), accumulate ? 1.0f : 0.0f, out, blasint(ldo));
}

template <>
void gemm<double>(int64_t M, int64_t N, int64_t K, const double* a, GemmLayout al, const double* b, GemmLayout bl,
                  double* out, int64_t ldo, bool accumulate) {
  if (try_gemv(M, N, K, a, al, b, bl, out, ldo, accumulate, cblas_dgemv)) return;
  cblas_dgemm(CblasRowMajor, op_of(al), op_of(bl), blasint(M), blasint(N), blasint(K), 1.0, a, blasint(al.ld), b,
              blasint(bl.ld), accumulate ? 1.0 : 0.0, out, blasint(ldo));
}

const char* gemm_library() {
  static const std::string name = std::string(openblas_get_config()) + " (core " + openblas_get_corename() + ")";
  return name.c_str();
}

}  // namespace petl::cpu

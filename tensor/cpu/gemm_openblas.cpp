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
}  // namespace

template <>
void gemm<float>(int64_t M, int64_t N, int64_t K, const float* a, GemmLayout al, const float* b, GemmLayout bl,
                 float* out, int64_t ldo, bool accumulate) {
  cblas_sgemm(CblasRowMajor, op_of(al), op_of(bl), blasint(M), blasint(N), blasint(K), 1.0f, a, blasint(al.ld), b,
              blasint(bl.ld), accumulate ? 1.0f : 0.0f, out, blasint(ldo));
}

template <>
void gemm<double>(int64_t M, int64_t N, int64_t K, const double* a, GemmLayout al, const double* b, GemmLayout bl,
                  double* out, int64_t ldo, bool accumulate) {
  cblas_dgemm(CblasRowMajor, op_of(al), op_of(bl), blasint(M), blasint(N), blasint(K), 1.0, a, blasint(al.ld), b,
              blasint(bl.ld), accumulate ? 1.0 : 0.0, out, blasint(ldo));
}

const char* gemm_library() {
  static const std::string name = std::string(openblas_get_config()) + " (core " + openblas_get_corename() + ")";
  return name.c_str();
}

}  // namespace petl::cpu

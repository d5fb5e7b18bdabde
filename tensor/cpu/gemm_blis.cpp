// cpu::gemm through BLIS's typed API (PETL_BLAS=blis; Debian libblis-openmp-dev). BLIS takes a row
// and a column stride for every operand, so both storage orders go in as they are. Its thread
// count is set per call (an rntm_t), because BLIS otherwise reads BLIS_NUM_THREADS/OMP_NUM_THREADS
// once and defaults to one thread: all of omp_get_max_threads() outside a parallel region, one inside.
#include <blis.h>
#include <omp.h>

#include <string>

#include "tensor/cpu/gemm.h"

namespace petl::cpu {

namespace {
inc_t row_stride(GemmLayout l) { return l.column_major ? 1 : l.ld; }
inc_t col_stride(GemmLayout l) { return l.column_major ? l.ld : 1; }

rntm_t runtime_for_this_call() {
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(omp_in_parallel() ? 1 : omp_get_max_threads(), &rntm);
  return rntm;
}
}  // namespace

template <>
void gemm<float>(int64_t M, int64_t N, int64_t K, const float* a, GemmLayout al, const float* b, GemmLayout bl,
                 float* out, int64_t ldo, bool accumulate) {
  float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  rntm_t rntm = runtime_for_this_call();
  bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, M, N, K, &one, const_cast<float*>(a), row_stride(al),
               col_stride(al), const_cast<float*>(b), row_stride(bl), col_stride(bl), &beta, out, ldo, 1, nullptr,
               &rntm);
}

template <>
void gemm<double>(int64_t M, int64_t N, int64_t K, const double* a, GemmLayout al, const double* b, GemmLayout bl,
                  double* out, int64_t ldo, bool accumulate) {
  double one = 1.0, beta = accumulate ? 1.0 : 0.0;
  rntm_t rntm = runtime_for_this_call();
  bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, M, N, K, &one, const_cast<double*>(a), row_stride(al),
               col_stride(al), const_cast<double*>(b), row_stride(bl), col_stride(bl), &beta, out, ldo, 1, nullptr,
               &rntm);
}

const char* gemm_library() {
  static const std::string name = std::string("BLIS ") + bli_info_get_version_str() + " (" +
                                  bli_arch_string(bli_arch_query_id()) + ", OpenMP)";
  return name.c_str();
}

}  // namespace petl::cpu

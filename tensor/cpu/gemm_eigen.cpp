// cpu::gemm through Eigen's own product kernel (PETL_BLAS=OFF, or no BLAS library found). Each
// operand is mapped in place in its storage order, so transposed views cost no copy. Eigen splits a
// large product over OpenMP threads itself and runs single-threaded inside a parallel region.
#include <string>

#include "tensor/cpu/eigen_maps.h"
#include "tensor/cpu/gemm.h"

namespace petl::cpu {

namespace {

template <class T>
void eigen_gemm(int64_t M, int64_t N, int64_t K, const T* a, GemmLayout al, const T* b, GemmLayout bl, T* out,
                int64_t ldo, bool accumulate) {
  RowMap<T> o(out, M, N, Eigen::OuterStride<>(ldo));
  auto run = [&](const auto& A, const auto& B) {
    if (accumulate) o.noalias() += A * B;
    else o.noalias() = A * B;
  };
  const Eigen::OuterStride<> lda(al.ld), ldb(bl.ld);
  if (!al.column_major && !bl.column_major) run(ConstRowMap<T>(a, M, K, lda), ConstRowMap<T>(b, K, N, ldb));
  else if (!al.column_major) run(ConstRowMap<T>(a, M, K, lda), ConstColMap<T>(b, K, N, ldb));
  else if (!bl.column_major) run(ConstColMap<T>(a, M, K, lda), ConstRowMap<T>(b, K, N, ldb));
  else run(ConstColMap<T>(a, M, K, lda), ConstColMap<T>(b, K, N, ldb));
}

}  // namespace

template <>
void gemm<float>(int64_t M, int64_t N, int64_t K, const float* a, GemmLayout al, const float* b, GemmLayout bl,
                 float* out, int64_t ldo, bool accumulate) {
  eigen_gemm(M, N, K, a, al, b, bl, out, ldo, accumulate);
}

template <>
void gemm<double>(int64_t M, int64_t N, int64_t K, const double* a, GemmLayout al, const double* b, GemmLayout bl,
                  double* out, int64_t ldo, bool accumulate) {
  eigen_gemm(M, N, K, a, al, b, bl, out, ldo, accumulate);
}

const char* gemm_library() {
  static const std::string name = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                                  std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
                                  " (own kernel, OpenMP)";
  return name.c_str();
}

}  // namespace petl::cpu

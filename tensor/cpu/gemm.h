// One matrix product on the CPU, out (=|+=) A @ B, through whichever GEMM kernel the build chose
// (CMake option PETL_BLAS): OpenBLAS (gemm_openblas.cpp), BLIS (gemm_blis.cpp) or Eigen's own
// (gemm_eigen.cpp). Exactly one of the three files defines these functions; docs/performance.md
// says why OpenBLAS is the default.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

namespace petl::cpu {

// How a strided [rows, cols] matrix (element (r, c) at r * rs + c * cs) is stored, in BLAS terms:
// row-major with leading dimension ld (unit column stride), or column-major -- the transpose of a
// row-major [cols, rows] matrix -- with leading dimension ld (unit row stride).
struct GemmLayout {
  bool column_major = false;
  int64_t ld = 1;
};

// The BLAS layout of a strided matrix, or nullopt when neither storage order fits BLAS's rules
// (a unit stride on one side and ld >= the other extent): broadcast rows (stride 0), overlapping
// or doubly strided views. A size-1 dimension takes any stride.
inline std::optional<GemmLayout> gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1)))
    return GemmLayout{false, rows == 1 ? std::max<int64_t>(cols, 1) : rs};
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1)))
    return GemmLayout{true, cols == 1 ? std::max<int64_t>(rows, 1) : cs};
  return std::nullopt;
}

// out [M, N] (row-major, leading dimension ldo) = A [M, K] @ B [K, N], or += when accumulate.
// The kernel may split the product across OpenMP threads; inside an OpenMP parallel region it
// runs on the calling thread only.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, GemmLayout a_layout, const T* b, GemmLayout b_layout, T* out,
          int64_t ldo, bool accumulate);

// The kernel this build uses, for benchmarks and logs: e.g. "OpenBLAS 0.3.21 (Cooperlake, OpenMP)".
const char* gemm_library();

}  // namespace petl::cpu

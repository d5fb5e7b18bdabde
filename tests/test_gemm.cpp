// The CPU GEMM (tensor/cpu/matmul.cpp over cpu::gemm, whichever kernel PETL_BLAS chose) against a
// naive float64 loop: every storage order, leading dimensions wider than the matrix, layouts BLAS
// cannot take (copied first), degenerate sizes, attention-style batches, accumulation, and one
// versus two threads.
#include <doctest/doctest.h>
#include <omp.h>

#include <string>

#include "support/tensor_helpers.h"
#include "tensor/backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/kernels.h"

using namespace petl;
using petl::testing::max_abs_diff;

namespace {

// out[i, j] = sum_k a[i, k] b[k, j] for 2-D a, b, in float64 whatever their dtype.
std::vector<double> naive(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  std::vector<double> out;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += a.at({i, k}) * b.at({k, j});
      out.push_back(acc);
    }
  return out;
}

// A [rows, cols] operand in one of four layouts: contiguous row-major, a transposed view
// (column-major), or either one cut out of a wider matrix (leading dimension > its extent).
Tensor operand(int64_t rows, int64_t cols, bool column_major, bool wider, DType dt) {
  const int64_t pad = wider ? 3 : 0;
  if (!column_major) return kernel::slice(randn({rows, cols + pad}, dt), 1, 0, cols);
  return kernel::transpose(kernel::slice(randn({cols, rows + pad}, dt), 1, 0, rows), 0, 1);
}

double tolerance(DType dt, int64_t K) { return (dt == DType::F32 ? 2e-6 : 1e-13) * double(K); }

}  // namespace

TEST_CASE("gemm: both storage orders of both operands, tight and wider leading dimensions, small and large") {
  struct Size {
    int64_t M, N, K;
  };
  // 150 x 140 x 130 is above the size where one product is split across threads.
  for (const Size s : {Size{5, 4, 7}, Size{150, 140, 130}})
    for (DType dt : {DType::F32, DType::F64})
      for (int layout = 0; layout < 16; ++layout) {
        const bool a_col = layout & 1, b_col = layout & 2, a_wide = layout & 4, b_wide = layout & 8;
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        CAPTURE(layout);
        CAPTURE(int(dt));
        const Tensor a = operand(s.M, s.K, a_col, a_wide, dt), b = operand(s.K, s.N, b_col, b_wide, dt);
        const Tensor c = kernel::matmul(a, b);
        REQUIRE(c.shape() == Shape{s.M, s.N});
        CHECK(max_abs_diff(c.to_vector(), naive(a, b)) < tolerance(dt, s.K));
      }
}

TEST_CASE("gemm: layouts no BLAS call can express are copied, not misread") {
  // Broadcast rows (stride 0), a doubly strided view (every other row and column), a column view
  // of a row-major matrix (stride C in both dims' sense): each against the naive loop.
  const Tensor row = randn({1, 6}, DType::F64);
  const Tensor broadcast_rows = kernel::expand(row, {5, 6});
  const Tensor every_other = kernel::slice(kernel::slice(randn({10, 12}, DType::F64), 0, 0, 10, 2), 1, 0, 12, 2);
  const Tensor b = randn({6, 3}, DType::F64);
  CHECK(max_abs_diff(kernel::matmul(broadcast_rows, b).to_vector(), naive(broadcast_rows, b)) < 1e-13);
  CHECK(max_abs_diff(kernel::matmul(every_other, b).to_vector(), naive(every_other, b)) < 1e-13);
  const Tensor a = randn({4, 5}, DType::F64);
  const Tensor broadcast_cols = kernel::expand(randn({5, 1}, DType::F64), {5, 6});
  CHECK(max_abs_diff(kernel::matmul(a, broadcast_cols).to_vector(), naive(a, broadcast_cols)) < 1e-13);
}

TEST_CASE("gemm: degenerate sizes (a row, a column, K = 1, an outer product)") {
  struct Size {
    int64_t M, N, K;
  };
  // One row or one column is a matrix-vector product (gemv in the OpenBLAS build): every storage
  // order and leading dimension of both operands, and a decoding-sized row (x [1, 200] @ W).
  for (const Size s : {Size{1, 9, 8}, Size{9, 1, 8}, Size{1, 1, 8}, Size{7, 6, 1}, Size{1, 300, 200},
                       Size{300, 1, 200}})
    for (DType dt : {DType::F32, DType::F64})
      for (int layout = 0; layout < 16; ++layout) {
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        CAPTURE(layout);
        CAPTURE(int(dt));
        const Tensor a = operand(s.M, s.K, layout & 1, layout & 4, dt);
        const Tensor b = operand(s.K, s.N, layout & 2, layout & 8, dt);
        CHECK(max_abs_diff(kernel::matmul(a, b).to_vector(), naive(a, b)) < tolerance(dt, s.K));
      }
}

TEST_CASE("gemm: attention-style batches [B, H, T, D] @ [B, H, D, T] (a transposed view) and back") {
  const int64_t B = 2, H = 3, T = 40, D = 16;
  const Tensor q = randn({B, H, T, D}), k = randn({B, H, T, D});
  const Tensor scores = kernel::matmul(q, kernel::transpose(k, -1, -2));  // Q K^T, no copy of K
  REQUIRE(scores.shape() == Shape{B, H, T, T});
  const Tensor back = kernel::matmul(kernel::transpose(scores, -1, -2), q);  // S^T Q
  REQUIRE(back.shape() == Shape{B, H, T, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      auto head = [&](const Tensor& x) {
        return kernel::reshape(kernel::slice(kernel::slice(x, 0, b, b + 1), 1, h, h + 1), {x.size(2), x.size(3)});
      };
      CAPTURE(b);
      CAPTURE(h);
      CHECK(max_abs_diff(head(scores).to_vector(), naive(head(q), kernel::transpose(head(k), 0, 1))) <
            tolerance(DType::F32, D));
      CHECK(max_abs_diff(head(back).to_vector(), naive(kernel::transpose(head(scores), 0, 1), head(q))) <
            tolerance(DType::F32, T) * 10);  // |scores| ~ sqrt(D): larger terms, larger rounding
    }
}

TEST_CASE("gemm: the backend's accumulate mode adds the product to what out holds") {
  struct Size {
    int64_t M, N, K;
  };
  for (const Size s : {Size{6, 5, 4}, Size{140, 150, 130}, Size{1, 150, 130}, Size{140, 1, 130}}) {
    const int64_t M = s.M, N = s.N, K = s.K;
    const Tensor a = randn({1, M, K}, DType::F64), c = kernel::transpose(randn({1, N, K}, DType::F64), 1, 2);
    const Tensor out = randn({1, M, N}, DType::F64);
    std::vector<double> want = naive(kernel::reshape(a, {M, K}), kernel::reshape(c, {K, N}));
    const std::vector<double> before = out.to_vector();
    for (size_t i = 0; i < want.size(); ++i) want[i] += before[i];
    backend_for(Device::cpu()).matmul(a, c, out, /*accumulate=*/true);
    CAPTURE(M);
    CAPTURE(N);
    CHECK(max_abs_diff(out.to_vector(), want) < 1e-12);
  }
}

TEST_CASE("gemm: one and two OpenMP threads agree, for one large product and for a batch of small ones") {
  const Tensor a = randn({300, 200}), b = kernel::transpose(randn({250, 200}), 0, 1);
  const Tensor qa = randn({24, 32, 16}), qb = randn({24, 16, 32});
  // A batch of 8 products above 128^3 multiply-adds each: one product per thread at 2 threads.
  const Tensor ba = randn({8, 130, 128}), bb = kernel::transpose(randn({8, 130, 128}), 1, 2);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<double> large1 = kernel::matmul(a, b).to_vector(), small1 = kernel::matmul(qa, qb).to_vector();
  const Tensor batched1 = kernel::matmul(ba, bb);
  omp_set_num_threads(2);
  const std::vector<double> large2 = kernel::matmul(a, b).to_vector(), small2 = kernel::matmul(qa, qb).to_vector();
  const Tensor batched2 = kernel::matmul(ba, bb);
  omp_set_num_threads(threads);
  CHECK(max_abs_diff(large1, large2) < tolerance(DType::F32, 200));
  CHECK(max_abs_diff(small1, small2) < tolerance(DType::F32, 16));
  CHECK(max_abs_diff(batched1.to_vector(), batched2.to_vector()) < tolerance(DType::F32, 128));
  CHECK(max_abs_diff(large1, naive(a, b)) < tolerance(DType::F32, 200));
  for (int64_t i : {int64_t(0), int64_t(7)}) {
    auto item = [&](const Tensor& x) { return kernel::reshape(kernel::slice(x, 0, i, i + 1), {x.size(1), x.size(2)}); };
    CHECK(max_abs_diff(item(batched2).to_vector(), naive(item(ba), item(bb))) < tolerance(DType::F32, 128));
  }
  MESSAGE("GEMM kernel: ", std::string(cpu::gemm_library()));
}

// Forward values of the CPU kernels against independent formulas and naive loops, in float32 and
// float64.
#include <cmath>

#include "support/tensor_helpers.h"

using namespace petl;

using petl::testing::max_abs_diff;

TEST_CASE("kernels: broadcasting binary ops") {
  Tensor a = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64);
  Tensor row = from_vector(std::vector<double>{10, 20, 30}, {3}, DType::F64);
  Tensor col = from_vector(std::vector<double>{2, 4}, {2, 1}, DType::F64);
  CHECK(kernel::binary(BinaryOp::Add, a, row).to_vector() == std::vector<double>{11, 22, 33, 14, 25, 36});
  CHECK(kernel::binary(BinaryOp::Div, a, col).to_vector() == std::vector<double>{0.5, 1, 1.5, 1, 1.25, 1.5});
  CHECK(kernel::binary(BinaryOp::Sub, row, a).shape() == Shape{2, 3});
  CHECK(kernel::binary(BinaryOp::Mul, col, row).to_vector() == std::vector<double>{20, 40, 60, 40, 80, 120});
  Tensor at = kernel::transpose(a, 0, 1);  // [3, 2], strided
  CHECK(kernel::binary(BinaryOp::Mul, at, at).to_vector() == std::vector<double>{1, 16, 4, 25, 9, 36});
}

TEST_CASE("kernels: unary ops including both GELU forms") {
  Tensor x = from_vector(std::vector<double>{-1.0, 0.0, 1.0, 2.0}, {4}, DType::F64);
  const auto gt = kernel::unary(UnaryOp::GeluTanh, x).to_vector();
  const auto ge = kernel::unary(UnaryOp::GeluErf, x).to_vector();
  CHECK(gt[2] == doctest::Approx(0.8411919906082768).epsilon(1e-12));
  CHECK(ge[2] == doctest::Approx(0.8413447460685429).epsilon(1e-12));
  CHECK(ge[0] == doctest::Approx(-0.15865525393145707).epsilon(1e-12));
  CHECK(gt[1] == 0.0);
  CHECK(kernel::unary(UnaryOp::Relu, x).to_vector() == std::vector<double>{0, 0, 1, 2});
  CHECK(kernel::unary(UnaryOp::Pow, x, 3.0).to_vector() == std::vector<double>{-1, 0, 1, 8});
  CHECK(kernel::unary(UnaryOp::Exp, x).to_vector()[3] == doctest::Approx(std::exp(2.0)));
  Tensor xf = kernel::to(x, DType::F32);
  CHECK(kernel::unary(UnaryOp::Tanh, xf).to_vector()[3] == doctest::Approx(std::tanh(2.0)).epsilon(1e-6));
}

TEST_CASE("kernels: sum, mean, max over axes") {
  Tensor t = kernel::reshape(arange(0, 24, 1, DType::F64), {2, 3, 4});
  CHECK(kernel::reduce(ReduceOp::Sum, t, {}, false).item() == 276.0);
  CHECK(kernel::reduce(ReduceOp::Sum, t, {0}, false).to_vector()[0] == 12.0);      // 0 + 12
  CHECK(kernel::reduce(ReduceOp::Sum, t, {1}, true).shape() == Shape{2, 1, 4});
  CHECK(kernel::reduce(ReduceOp::Sum, t, {1}, false).to_vector()[0] == 12.0);      // 0 + 4 + 8
  CHECK(kernel::reduce(ReduceOp::Mean, t, {0, 2}, false).to_vector() ==
        std::vector<double>{7.5, 11.5, 15.5});
  CHECK(kernel::reduce(ReduceOp::Max, t, {2}, false).to_vector() == std::vector<double>{3, 7, 11, 15, 19, 23});
  CHECK(kernel::reduce(ReduceOp::Max, kernel::transpose(t, 0, 2), {2}, false).to_vector()[0] == 12.0);
  // Large reductions take the parallel paths.
  Tensor big = ones({300, 1000}, DType::F64);
  CHECK(kernel::reduce(ReduceOp::Sum, big, {0}, false).to_vector()[999] == 300.0);
  CHECK(kernel::reduce(ReduceOp::Sum, big, {1}, false).to_vector()[299] == 1000.0);
  CHECK(kernel::reduce(ReduceOp::Sum, kernel::reshape(big, {300000}), {}, false).item() == 300000.0);
  CHECK(kernel::sum_to(big, {1, 1000}).shape() == Shape{1, 1000});
}

TEST_CASE("kernels: softmax and log-softmax") {
  Tensor x = randn({5, 7}, DType::F64);
  auto s = kernel::softmax(x, -1, false).to_vector();
  auto l = kernel::softmax(x, -1, true).to_vector();
  for (int r = 0; r < 5; ++r) {
    double total = 0;
    for (int j = 0; j < 7; ++j) total += s[size_t(r * 7 + j)];
    CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
  }
  for (size_t i = 0; i < s.size(); ++i) CHECK(l[i] == doctest::Approx(std::log(s[i])).epsilon(1e-12));
  // A 0-d tensor is one element: softmax 1, log-softmax 0.
  CHECK(kernel::softmax(scalar(3.0), 0, false).item() == 1.0);
  CHECK(kernel::softmax(scalar(3.0), 0, true).item() == 0.0);
  // Large logits do not overflow.
  Tensor big = from_vector(std::vector<float>{1000.f, 1000.f}, {1, 2});
  CHECK(kernel::softmax(big, 1, false).to_vector() == std::vector<double>{0.5, 0.5});
  // Along axis 0 equals along the last axis of the transpose.
  auto s0 = kernel::softmax(x, 0, false);
  auto s0t = kernel::softmax(kernel::transpose(x, 0, 1), -1, false);
  CHECK(max_abs_diff(kernel::transpose(s0, 0, 1).to_vector(), s0t.to_vector()) < 1e-15);
}

TEST_CASE("kernels: layer norm normalizes each row") {
  Tensor x = randn({4, 64}, DType::F64);
  Tensor gamma = full({64}, 2.0, DType::F64), beta = full({64}, 0.5, DType::F64);
  auto r = kernel::layer_norm(x, gamma, beta, 1e-5);
  auto y = r.y.to_vector();
  for (int row = 0; row < 4; ++row) {
    double m = 0, v = 0;
    for (int j = 0; j < 64; ++j) m += y[size_t(row * 64 + j)] / 64;
    for (int j = 0; j < 64; ++j) v += (y[size_t(row * 64 + j)] - m) * (y[size_t(row * 64 + j)] - m) / 64;
    CHECK(m == doctest::Approx(0.5).epsilon(1e-9));
    CHECK(v == doctest::Approx(4.0).epsilon(1e-3));  // (2 * 1)^2, less the eps
  }
}

TEST_CASE("kernels: matmul against a naive loop (float32, float64, batched, transposed)") {
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor a = randn({3, 5, 7}, dt), b = randn({7, 4}, dt);
    Tensor bt = kernel::transpose(randn({2, 3, 4, 7}, dt), -1, -2);  // [2, 3, 7, 4], column-major
    const double tol = dt == DType::F32 ? 1e-4 : 1e-12;
    auto naive = [](const Tensor& x, const Tensor& y, int64_t batch_x, int64_t batch_y) {
      const int64_t M = x.size(-2), K = x.size(-1), N = y.size(-1);
      std::vector<double> out;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double xv = x.dim() == 3 ? x.at({batch_x, i, k}) : x.at({i, k});
            const double yv = y.dim() == 2 ? y.at({k, j}) : y.at({batch_y / 3, batch_y % 3, k, j});
            acc += xv * yv;
          }
          out.push_back(acc);
        }
      return out;
    };
    Tensor c = kernel::matmul(a, b);
    CHECK(c.shape() == Shape{3, 5, 4});
    for (int64_t n = 0; n < 3; ++n)
      CHECK(max_abs_diff(kernel::slice(c, 0, n, n + 1).to_vector(), naive(a, b, n, 0)) < tol);
    Tensor d = kernel::matmul(a, bt);  // a broadcast against [2, 3] batches
    CHECK(d.shape() == Shape{2, 3, 5, 4});
    for (int64_t n = 0; n < 6; ++n) {
      Tensor dn = kernel::slice(kernel::slice(d, 0, n / 3, n / 3 + 1), 1, n % 3, n % 3 + 1);
      CHECK(max_abs_diff(dn.to_vector(), naive(a, bt, n % 3, n)) < tol);
    }
  }
}

TEST_CASE("kernels: embedding gathers rows, scatter-add sums repeats") {
  Tensor w = kernel::reshape(arange(0, 12, 1, DType::F64), {4, 3});
  Tensor ids = from_vector(std::vector<int64_t>{3, 0, 3}, {3});
  CHECK(kernel::embedding(w, ids).to_vector() == std::vector<double>{9, 10, 11, 0, 1, 2, 9, 10, 11});
  Tensor dw = kernel::embedding_backward(ones({3, 3}, DType::F64), ids, 4);
  CHECK(dw.to_vector() == std::vector<double>{1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2});
}

TEST_CASE("kernels: cross entropy equals -log softmax at the target, mean over kept rows") {
  Tensor logits = randn({4, 6}, DType::F64);
  Tensor targets = from_vector(std::vector<int64_t>{5, -1, 0, 2}, {4});
  auto r = kernel::cross_entropy(logits, targets, -1);
  auto ls = kernel::softmax(logits, -1, true);
  const double expected = -(ls.at({0, 5}) + ls.at({2, 0}) + ls.at({3, 2})) / 3.0;
  CHECK(r.count == 3);
  CHECK(r.loss.item() == doctest::Approx(expected).epsilon(1e-12));
  Tensor all_ignored = from_vector(std::vector<int64_t>{-1, -1, -1, -1}, {4});
  CHECK(kernel::cross_entropy(logits, all_ignored, -1).loss.item() == 0.0);
}

TEST_CASE("kernels: masked fill and dropout") {
  Tensor x = ones({2, 3});
  Tensor mask = from_vector(std::vector<int64_t>{0, 1, 0}, {3});
  CHECK(kernel::masked_fill(x, mask, -5.0).to_vector() == std::vector<double>{1, -5, 1, 1, -5, 1});
  Tensor big = ones({100000});
  Tensor d1 = kernel::dropout(big, 0.25, 11, 0), d2 = kernel::dropout(big, 0.25, 11, 0);
  CHECK(d1.to_vector() == d2.to_vector());
  auto v = d1.to_vector();
  int64_t kept = 0, other = 0;
  for (double e : v) {
    other += !(e == 0.0 || std::abs(e - 1.0 / 0.75) < 1e-6);
    kept += e != 0.0;
  }
  CHECK(other == 0);  // every element is dropped (0) or kept and scaled by 1/(1-p)
  CHECK(double(kept) / 100000.0 == doctest::Approx(0.75).epsilon(0.01));
  CHECK(kernel::dropout(big, 0.25, 11, 1).to_vector() != v);  // another offset, another mask
}

TEST_CASE("kernels: attention output rows are convex combinations of visible values") {
  const int64_t Tq = 3, Tk = 5;
  Tensor q = randn({1, 1, Tq, 4}, DType::F64), k = randn({1, 1, Tk, 4}, DType::F64);
  Tensor v = kernel::reshape(kernel::to(arange(0, Tk, 1), DType::F64), {1, 1, Tk, 1});  // v_j = j
  AttentionOptions causal;
  causal.causal = true;
  auto r = kernel::attention(q, k, v, Tensor(), causal);
  // Query i sees keys 0 .. i + 2, so its output (a weighted mean of j) is at most i + 2.
  for (int64_t i = 0; i < Tq; ++i) CHECK(r.out.at({0, 0, i, 0}) <= double(i + 2) + 1e-12);
  // A query with every key masked gets a zero row (not NaN).
  Tensor none = zeros({1, Tk}, DType::I64);
  auto z = kernel::attention(q, k, v, none, {});
  for (double e : z.out.to_vector()) CHECK(e == 0.0);
}

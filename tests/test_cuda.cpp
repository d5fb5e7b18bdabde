// The CUDA backend against the CPU backend, op by op, forward and backward, through the raw
// kernels (tensor/kernels.h): the same inputs (made on the CPU, copied with kernel::to) must give
// the same results on both devices.
//
// Tolerances (|cuda - cpu| <= atol + rtol * |cpu| per element):
//   float64: 1e-10 everywhere (only summation order and libm-vs-CUDA rounding differ).
//   float32: 2e-5 / 2e-6 for elementwise ops; 1e-4 / 1e-4 for reductions, softmax, layer norm,
//            cross entropy and attention (different summation orders); GEMMs 1e-4 / 1e-4 with
//            TF32 off, and 1e-2 / 5e-3 * sqrt(K) with TF32 on (10-bit mantissa inputs).
//   Copies, fills, gathers, masks and dropout are exact; random draws are exact for uniform
//   in [0, 1) and within 1 ulp for scaled uniform and normal draws (CUDA's log/cos may round
//   differently from glibc's in the last bit).
// Every test skips visibly ([petl-skip]) when no GPU is present.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/skip.h"
#include "support/tensor_helpers.h"
#include "tensor/cuda/settings.h"

#if defined(PETL_WITH_CUDA)
#include <cuda_runtime.h>

#include "tensor/cuda/check.h"
#endif

using namespace petl;

namespace {

const Device kCuda = Device::cuda();

struct Tol {
  double rtol, atol;
};
constexpr Tol kExact{0.0, 0.0};
constexpr Tol kF64{1e-10, 1e-10};
constexpr Tol kF32Elementwise{2e-5, 2e-6};
constexpr Tol kF32{1e-4, 1e-4};

Tol tol_for(DType dt, Tol f32 = kF32) { return dt == DType::F64 ? kF64 : f32; }

// Elementwise |got - want| <= atol + rtol |want|; equal infinities and NaN pairs count as equal.
void check_close(const Tensor& got, const Tensor& want, Tol tol, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(want.defined());
  REQUIRE(got.shape() == want.shape());
  CHECK(got.dtype() == want.dtype());
  const std::vector<double> g = got.to_vector(), w = want.to_vector();
  int64_t bad = 0;
  size_t worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) continue;
    const double err = std::abs(g[i] - w[i]), allowed = tol.atol + tol.rtol * std::abs(w[i]);
    if (!(err <= allowed)) {
      ++bad;
      const double excess = std::isfinite(err) ? err - allowed : 1e300;
      if (excess > worst_excess) worst_excess = excess, worst = i;
    }
  }
  INFO(bad << " of " << g.size() << " elements outside rtol " << tol.rtol << " atol " << tol.atol
            << (bad ? "; worst at flat index " + std::to_string(worst) + ": cuda " + std::to_string(g[worst]) +
                          " vs cpu " + std::to_string(w[worst])
                    : std::string()));
  CHECK(bad == 0);
}

Tensor rand_cpu(const Shape& shape, DType dt, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, dt, Device::cpu(), gen);
}

// Positive values in [lo, hi] (for log, sqrt, pow, division).
Tensor positive_cpu(const Shape& shape, DType dt, uint64_t seed, double lo = 0.2, double hi = 2.0) {
  Generator gen(seed);
  return uniform(shape, lo, hi, dt, Device::cpu(), gen);
}

Tensor on_gpu(const Tensor& x) { return kernel::to(x, kCuda); }

const char* name(DType dt) { return dtype_name(dt); }

}  // namespace

TEST_CASE("cuda: without a GPU, CUDA tensors fail with petl::Error") {
  if (petl::cuda_available()) PETL_SKIP("a CUDA device is present; this checks the no-GPU path");
  CHECK_THROWS_AS(Tensor::empty({2}, DType::F32, kCuda), petl::Error);
  CHECK_THROWS_AS(backend_for(kCuda), petl::Error);
}

TEST_CASE("cuda: to(device) round trips every dtype, strided sources included") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = rand_cpu({3, 5, 7}, dt, 1);
    Tensor d = on_gpu(x);
    CHECK(d.device() == kCuda);
    CHECK(d.is_cuda());
    check_close(kernel::to(d, Device::cpu()), x, kExact, name(dt));
    Tensor xt = kernel::transpose(x, 0, 2);  // non-contiguous source
    check_close(on_gpu(xt), xt, kExact, "transposed upload");
    CHECK(d.at({1, 2, 3}) == x.at({1, 2, 3}));
  }
  Tensor ids = from_vector(std::vector<int64_t>{0, -5, 7, int64_t(1) << 40}, {2, 2});
  check_close(on_gpu(ids), ids, kExact, "int64");
  Tensor empty = Tensor::empty({0, 3}, DType::F32, kCuda);
  CHECK(kernel::to(empty, Device::cpu()).numel() == 0);
}

TEST_CASE("cuda: fill, copy_, clone, contiguous, dtype conversion and concat equal the CPU") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  check_close(full({4, 3}, 2.5, DType::F32, kCuda), full({4, 3}, 2.5, DType::F32), kExact, "full");
  check_close(zeros({4, 3}, DType::F64, kCuda), zeros({4, 3}, DType::F64), kExact, "zeros");
  check_close(full({5}, -3.0, DType::I64, kCuda), full({5}, -3.0, DType::I64), kExact, "full int64");

  Tensor x = rand_cpu({6, 8}, DType::F64, 2);
  Tensor dx = on_gpu(x);
  // fill_ and copy_ into strided views of a CUDA tensor.
  Tensor hc = x.detach(), hd = on_gpu(x);
  hc = kernel::clone(hc);
  kernel::fill_(kernel::slice(hc, 1, 1, 8, 3), 7.0);
  kernel::fill_(kernel::slice(hd, 1, 1, 8, 3), 7.0);
  check_close(hd, hc, kExact, "fill_ of a strided slice");
  Tensor row = rand_cpu({8}, DType::F64, 3);
  kernel::copy_(kernel::slice(hc, 0, 0, 6, 2), row);        // broadcast source
  kernel::copy_(kernel::slice(hd, 0, 0, 6, 2), on_gpu(row));
  check_close(hd, hc, kExact, "broadcast copy_ into a slice");
  kernel::copy_(kernel::transpose(kernel::slice(hc, 0, 0, 4), 0, 1), kernel::transpose(kernel::slice(x, 0, 2, 6), 0, 1));
  kernel::copy_(kernel::transpose(kernel::slice(hd, 0, 0, 4), 0, 1), kernel::transpose(kernel::slice(dx, 0, 2, 6), 0, 1));
  check_close(hd, hc, kExact, "transposed copy_");
  kernel::copy_(hd, x);  // host source copied to the device
  check_close(hd, x, kExact, "copy_ from the CPU");

  check_close(kernel::contiguous(kernel::transpose(dx, 0, 1)), kernel::contiguous(kernel::transpose(x, 0, 1)), kExact,
              "contiguous of a transpose");
  check_close(kernel::clone(kernel::slice(dx, 1, 0, 8, 2)), kernel::clone(kernel::slice(x, 1, 0, 8, 2)), kExact, "clone");
  for (DType to : {DType::F32, DType::I64, DType::F64}) {
    check_close(kernel::to(dx, to), kernel::to(x, to), kExact, std::string("to ") + name(to));
    check_close(kernel::to(kernel::transpose(dx, 0, 1), to), kernel::to(kernel::transpose(x, 0, 1), to), kExact,
                std::string("strided to ") + name(to));
  }
  Tensor ids = from_vector(std::vector<int64_t>{3, -2, 9}, {3});
  check_close(kernel::to(on_gpu(ids), DType::F32), kernel::to(ids, DType::F32), kExact, "int64 to float32");

  Tensor y = rand_cpu({6, 3}, DType::F64, 4), z = rand_cpu({2, 8}, DType::F64, 5);
  check_close(kernel::concat({dx, on_gpu(y)}, 1), kernel::concat({x, y}, 1), kExact, "concat axis 1");
  check_close(kernel::concat({dx, on_gpu(z), kernel::slice(dx, 0, 0, 1)}, 0), kernel::concat({x, z, kernel::slice(x, 0, 0, 1)}, 0),
              kExact, "concat axis 0");
}

TEST_CASE("cuda: random draws equal the CPU's for the same seed and offset") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(name(dt));
    // 1 ulp, and (near 0, where low + range * u cancels) 1 ulp of the range.
    const Tol one_ulp = dt == DType::F64 ? Tol{4e-16, 1e-15} : Tol{1.2e-7, 1e-15};
    Generator gc(1234), gd(1234);
    // Two draws in a row: the second starts at a nonzero offset.
    for (int draw = 0; draw < 2; ++draw) {
      check_close(uniform({37, 41}, 0.0, 1.0, dt, kCuda, gd), uniform({37, 41}, 0.0, 1.0, dt, Device::cpu(), gc), kExact,
                  "uniform [0, 1)");
      check_close(uniform({1000}, -2.0, 3.0, dt, kCuda, gd), uniform({1000}, -2.0, 3.0, dt, Device::cpu(), gc), one_ulp,
                  "uniform [-2, 3)");
      check_close(randn({33, 17}, dt, kCuda, gd), randn({33, 17}, dt, Device::cpu(), gc),
                  dt == DType::F64 ? Tol{1e-14, 1e-14} : Tol{1.2e-7, 1e-7}, "randn");
    }
    CHECK(gc.offset() == gd.offset());
  }
  // The backend writes strided outputs too (element i of the view at counter offset + i).
  Tensor hc = zeros({8, 6}, DType::F64), hd = zeros({8, 6}, DType::F64, kCuda);
  backend_for(Device::cpu()).random_uniform(kernel::transpose(hc, 0, 1), 0.0, 1.0, 99, 10);
  backend_for(kCuda).random_uniform(kernel::transpose(hd, 0, 1), 0.0, 1.0, 99, 10);
  check_close(hd, hc, kExact, "strided uniform");
}

TEST_CASE("cuda: unary ops and their derivatives on strided inputs") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  const UnaryOp ops[] = {UnaryOp::Neg,  UnaryOp::Exp,      UnaryOp::Log,     UnaryOp::Sqrt, UnaryOp::Tanh,
                         UnaryOp::Relu, UnaryOp::GeluTanh, UnaryOp::GeluErf, UnaryOp::Pow};
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt, kF32Elementwise);
    // Transposed views: [33, 7] read from [7, 33] storage.
    Tensor xs = kernel::transpose(rand_cpu({7, 33}, dt, 10), 0, 1);
    Tensor xp = kernel::transpose(positive_cpu({7, 33}, dt, 11), 0, 1);
    Tensor g = rand_cpu({33, 7}, dt, 12);
    Tensor dg = on_gpu(g);
    for (UnaryOp op : ops) {
      const bool needs_positive = op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Pow;
      const Tensor& x = needs_positive ? xp : xs;
      const Tensor dxv = kernel::transpose(on_gpu(kernel::transpose(x, 0, 1)), 0, 1);  // the same strided view on the GPU
      REQUIRE_FALSE(dxv.is_contiguous());
      const double p = op == UnaryOp::Pow ? 2.5 : 0.0;
      const std::string what = std::string(unary_op_name(op)) + " " + name(dt);
      Tensor y = kernel::unary(op, x, p), dy = kernel::unary(op, dxv, p);
      check_close(dy, y, tol, what);
      check_close(kernel::unary_backward(op, dg, dxv, dy, p), kernel::unary_backward(op, g, x, y, p), tol,
                  what + " backward");
      check_close(kernel::unary_backward(op, dg, dxv, Tensor(), p), kernel::unary_backward(op, g, x, Tensor(), p), tol,
                  what + " backward without y");
    }
  }
}

TEST_CASE("cuda: binary ops broadcast over strided and sliced operands") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt, kF32Elementwise);
    Tensor a_base = rand_cpu({7, 5}, dt, 20), b_base = positive_cpu({12, 7}, dt, 21, 0.5, 2.0);
    Tensor da_base = on_gpu(a_base), db_base = on_gpu(b_base);
    // a: [5, 1, 7] from a transpose; b: [6, 7] every other row of [12, 7].
    auto a_of = [](const Tensor& t) { return kernel::unsqueeze(kernel::transpose(t, 0, 1), 1); };
    auto b_of = [](const Tensor& t) { return kernel::slice(t, 0, 1, 12, 2); };
    Tensor s = rand_cpu({}, dt, 22);
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
      const std::string what = std::string(binary_op_name(op)) + " " + name(dt);
      Tensor want = kernel::binary(op, a_of(a_base), b_of(b_base));
      CHECK(want.shape() == Shape{5, 6, 7});
      check_close(kernel::binary(op, a_of(da_base), b_of(db_base)), want, tol, what);
      check_close(kernel::binary(op, b_of(db_base), on_gpu(s)), kernel::binary(op, b_of(b_base), s), tol, what + " scalar");
    }
  }
}

TEST_CASE("cuda: masked_fill and dropout are exact") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = rand_cpu({5, 7}, dt, 30);
    Tensor dx = on_gpu(x);
    Tensor mask_i = from_vector(std::vector<int64_t>{1, 0, 0, 3, 0, -1, 0}, {1, 7});
    check_close(kernel::masked_fill(dx, on_gpu(mask_i), -1e9), kernel::masked_fill(x, mask_i, -1e9), kExact, "int64 mask");
    Tensor mask_f = zeros({5, 1}, DType::F32);
    mask_f.set({2, 0}, 1.0);
    check_close(kernel::masked_fill(kernel::transpose(dx, 0, 1), kernel::transpose(on_gpu(mask_f), 0, 1), 4.0),
                kernel::masked_fill(kernel::transpose(x, 0, 1), kernel::transpose(mask_f, 0, 1), 4.0), kExact,
                "float mask on a transpose");
    for (double p : {0.0, 0.3, 0.9}) {
      Tensor xt = kernel::transpose(rand_cpu({40, 50}, dt, 32), 0, 1);
      Tensor dxt = kernel::transpose(on_gpu(kernel::transpose(xt, 0, 1)), 0, 1);
      check_close(kernel::dropout(dxt, p, 77, 1000), kernel::dropout(xt, p, 77, 1000), kExact,
                  "dropout p=" + std::to_string(p) + " " + name(dt));
    }
  }
}

TEST_CASE("cuda: sum, mean and max over axes, short and long reductions") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt);
    Tensor x = rand_cpu({4, 5, 6}, dt, 40);
    Tensor dx = on_gpu(x);
    const std::vector<std::vector<int64_t>> axes_list = {{}, {0}, {1}, {2}, {0, 2}, {1, 2}, {-1}};
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max}) {
      for (const auto& axes : axes_list) {
        for (bool keep : {false, true}) {
          const std::string what = std::string(op == ReduceOp::Sum ? "sum" : op == ReduceOp::Mean ? "mean" : "max") +
                                   " " + name(dt) + " axes " + shape_str(axes) + (keep ? " keepdim" : "");
          check_close(kernel::reduce(op, dx, axes, keep), kernel::reduce(op, x, axes, keep), tol, what);
          check_close(kernel::reduce(op, kernel::transpose(dx, 0, 2), axes, keep),
                      kernel::reduce(op, kernel::transpose(x, 0, 2), axes, keep), tol, what + " transposed");
        }
      }
    }
    // Long reductions (the chunked two-pass paths): rows, columns, everything.
    const Tol long_tol = dt == DType::F64 ? Tol{1e-10, 1e-9} : Tol{1e-3, 5e-3};
    struct Case { Shape shape; std::vector<int64_t> axes; };
    for (const Case& c : {Case{{3, 100000}, {1}}, Case{{100000, 3}, {0}}, Case{{300000}, {}}, Case{{2, 5000, 33}, {1}},
                          Case{{70, 40}, {0}}}) {
      Tensor big = rand_cpu(c.shape, dt, 41);
      Tensor dbig = on_gpu(big);
      for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max})
        check_close(kernel::reduce(op, dbig, c.axes, false), kernel::reduce(op, big, c.axes, false), long_tol,
                    "long reduction over " + shape_str(c.shape) + " " + name(dt));
    }
    // max backward with ties: small integers (2 x, truncated) repeat within every slice.
    Tensor doubled = kernel::binary(BinaryOp::Mul, rand_cpu({4, 9, 5}, DType::F64, 42), full({}, 2.0, DType::F64));
    Tensor ties = kernel::to(kernel::to(doubled, DType::I64), dt);
    Tensor dties = on_gpu(ties);
    for (const auto& axes : std::vector<std::vector<int64_t>>{{1}, {0, 2}, {2}, {}}) {
      Tensor y = kernel::reduce(ReduceOp::Max, ties, axes, false);
      Tensor g = rand_cpu(y.shape(), dt, 43);
      check_close(kernel::max_backward(on_gpu(g), dties, kernel::reduce(ReduceOp::Max, dties, axes, false), axes, false),
                  kernel::max_backward(g, ties, y, axes, false), tol, "max_backward axes " + shape_str(axes));
    }
  }
}

TEST_CASE("cuda: max propagates NaN and the mean of nothing is NaN, as on the CPU") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    // A NaN in row 1 and column 2 of every [rows, cols] block; short and long (chunked) paths.
    for (const Shape& shape : {Shape{3, 7}, Shape{4, 100000}, Shape{100000, 3}}) {
      Tensor x = rand_cpu(shape, dt, 42);
      x.set({1, 2}, std::nan(""));
      Tensor dx = on_gpu(x);
      for (const std::vector<int64_t>& axes : {std::vector<int64_t>{0}, {1}, {}}) {
        const std::string what = std::string("max ") + name(dt) + " " + shape_str(shape) + " axes " + shape_str(axes);
        Tensor want = kernel::reduce(ReduceOp::Max, x, axes, false);
        const auto w = want.to_vector();
        CHECK(std::count_if(w.begin(), w.end(), [](double v) { return std::isnan(v); }) == 1);
        check_close(kernel::reduce(ReduceOp::Max, dx, axes, false), want, kExact, what);
      }
    }
    Tensor empty_rows = zeros({3, 0}, dt, kCuda);
    for (double v : kernel::reduce(ReduceOp::Mean, empty_rows, {1}, false).to_vector()) CHECK(std::isnan(v));
  }
}

TEST_CASE("cuda: softmax and log-softmax forward and backward") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt);
    // [4, 1100]: rows longer than the 512-thread block (axis -1) and, along axis 0, more rows than
    // the grid has blocks (the grid-stride loop); [3, 1]: a one-element row.
    for (const Shape& shape : {Shape{9, 37}, Shape{4, 1100}, Shape{3, 1}, Shape{2, 3, 130}}) {
      Tensor x = rand_cpu(shape, dt, 50), g = rand_cpu(shape, dt, 51);
      Tensor dx = on_gpu(x), dg = on_gpu(g);
      for (bool log : {false, true}) {
        for (int64_t axis : {int64_t(-1), int64_t(0)}) {
          const std::string what = std::string(log ? "log_softmax " : "softmax ") + name(dt) + " " + shape_str(shape) +
                                   " axis " + std::to_string(axis);
          Tensor y = kernel::softmax(x, axis, log), dy = kernel::softmax(dx, axis, log);
          check_close(dy, y, tol, what);
          check_close(kernel::softmax_backward(dg, dy, axis, log), kernel::softmax_backward(g, y, axis, log), tol,
                      what + " backward");
        }
      }
    }
  }
}

TEST_CASE("cuda: layer norm forward and backward, with and without affine parameters") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt);
    // [300, 64]: more rows than the grid has blocks, and dgamma/dbeta column sums long enough for
    // the two-pass (chunked) reduction; [3, 600]: rows longer than the 512-thread block.
    for (const Shape& shape : {Shape{6, 5, 48}, Shape{300, 64}, Shape{3, 600}, Shape{4, 1}}) {
      const int64_t n = shape.back();
      Tensor x = rand_cpu(shape, dt, 60), g = rand_cpu(shape, dt, 61);
      Tensor gamma = rand_cpu({n}, dt, 62), beta = rand_cpu({n}, dt, 63);
      Tensor dx = on_gpu(x), dg = on_gpu(g), dgamma = on_gpu(gamma), dbeta = on_gpu(beta);
      for (bool affine : {true, false}) {
        const std::string what = std::string("layer_norm ") + name(dt) + " " + shape_str(shape) + (affine ? " affine" : "");
        auto want = kernel::layer_norm(x, affine ? gamma : Tensor(), affine ? beta : Tensor(), 1e-5);
        auto got = kernel::layer_norm(dx, affine ? dgamma : Tensor(), affine ? dbeta : Tensor(), 1e-5);
        check_close(got.y, want.y, tol, what);
        check_close(got.mean, want.mean, tol, what + " mean");
        check_close(got.rstd, want.rstd, tol, what + " rstd");
        for (int mask = 1; mask < 8; ++mask) {
          const bool need_dx = mask & 1, need_dgamma = mask & 2, need_dbeta = mask & 4;
          auto wg = kernel::layer_norm_backward(g, x, affine ? gamma : Tensor(), want.mean, want.rstd, need_dx,
                                                need_dgamma, need_dbeta);
          auto gg = kernel::layer_norm_backward(dg, dx, affine ? dgamma : Tensor(), got.mean, got.rstd, need_dx,
                                                need_dgamma, need_dbeta);
          CHECK(gg.dx.defined() == need_dx);
          CHECK(gg.dgamma.defined() == need_dgamma);
          CHECK(gg.dbeta.defined() == need_dbeta);
          if (need_dx) check_close(gg.dx, wg.dx, tol, what + " dx");
          if (need_dgamma) check_close(gg.dgamma, wg.dgamma, dt == DType::F64 ? kF64 : Tol{1e-4, 1e-3}, what + " dgamma");
          if (need_dbeta) check_close(gg.dbeta, wg.dbeta, dt == DType::F64 ? kF64 : Tol{1e-4, 1e-3}, what + " dbeta");
        }
      }
    }
  }
}

TEST_CASE("cuda: matmul through cuBLAS: batched, broadcast, transposed operands, TF32 on and off") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  struct Case {
    const char* what;
    Shape a, b;
    bool transpose_a, transpose_b;  // stored transposed, read through a transposed view
  };
  const Case cases[] = {
      {"2-D", {33, 65}, {65, 17}, false, false},
      {"batched", {4, 33, 65}, {4, 65, 17}, false, false},
      {"broadcast batch", {3, 1, 20, 30}, {4, 30, 10}, false, false},
      {"linear (3-D @ 2-D)", {2, 7, 30}, {30, 10}, false, false},
      {"a transposed", {33, 65}, {65, 17}, true, false},
      {"b transposed", {33, 65}, {65, 17}, false, true},
      {"both transposed, batched", {4, 33, 65}, {4, 65, 17}, true, true},
      {"vector-matrix", {1, 40}, {40, 1}, false, false},
      {"outer product", {5, 1}, {1, 6}, false, false},
      {"large K", {64, 256}, {256, 48}, false, false},
  };
  auto make = [](const Shape& shape, bool transposed, DType dt, uint64_t seed) {
    if (!transposed) return rand_cpu(shape, dt, seed);
    Shape stored = shape;
    std::swap(stored[stored.size() - 1], stored[stored.size() - 2]);
    return kernel::transpose(rand_cpu(stored, dt, seed), -1, -2);
  };
  auto same_view_on_cuda = [](const Tensor& x, bool transposed) {
    return transposed ? kernel::transpose(on_gpu(kernel::transpose(x, -1, -2)), -1, -2) : on_gpu(x);
  };
  for (DType dt : {DType::F64, DType::F32}) {
    for (bool tf32 : {false, true}) {
      if (dt == DType::F64 && tf32) continue;
      petl::cuda::ScopedTf32 mode(tf32);
      CHECK(petl::cuda::tf32_enabled() == tf32);
      for (const Case& c : cases) {
        const std::string what = std::string(c.what) + " " + name(dt) + (tf32 ? " tf32" : "");
        Tensor a = make(c.a, c.transpose_a, dt, 70), b = make(c.b, c.transpose_b, dt, 71);
        Tensor da = same_view_on_cuda(a, c.transpose_a), db = same_view_on_cuda(b, c.transpose_b);
        CHECK(da.strides() == a.strides());
        const double K = double(c.a.back());
        const Tol tol = dt == DType::F64 ? kF64 : tf32 ? Tol{1e-2, 5e-3 * std::sqrt(K)} : kF32;
        check_close(kernel::matmul(da, db), kernel::matmul(a, b), tol, what);
      }
      // The backend directly: accumulate into out, and an operand no GEMM layout fits
      // (a column stride of 2), which the backend copies first.
      Tensor a = kernel::slice(rand_cpu({1, 33, 130}, dt, 72), 2, 0, 130, 2);  // [1, 33, 65], strides (.., 130, 2)
      Tensor c = rand_cpu({1, 65, 17}, dt, 73);
      Tensor da = kernel::slice(on_gpu(rand_cpu({1, 33, 130}, dt, 72)), 2, 0, 130, 2), dc = on_gpu(c);
      Tensor want = full({1, 33, 17}, 1.0, dt), got = full({1, 33, 17}, 1.0, dt, kCuda);
      backend_for(Device::cpu()).matmul(kernel::contiguous(a), c, want, true);
      backend_for(kCuda).matmul(da, dc, got, true);
      check_close(got, want, dt == DType::F64 ? kF64 : tf32 ? Tol{1e-2, 5e-3 * std::sqrt(65.0)} : kF32,
                  std::string("accumulate, strided operand ") + name(dt));
    }
  }
  // Zero-sized inner dimension: zeros.
  check_close(kernel::matmul(Tensor::empty({3, 0}, DType::F32, kCuda), Tensor::empty({0, 4}, DType::F32, kCuda)),
              zeros({3, 4}), kExact, "K = 0");
}

TEST_CASE("cuda: embedding gather and scatter-add, out-of-range ids rejected") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor w = rand_cpu({50, 24}, dt, 80);
    Tensor ids = from_vector(std::vector<int64_t>{3, 7, 3, 49, 0, 7, 7, 12, 3, 3, 1, 0, 44, 7, 2, 9, 3, 3, 30, 31, 0},
                             {3, 7});
    Tensor dw = on_gpu(w), dids = on_gpu(ids);
    check_close(kernel::embedding(dw, dids), kernel::embedding(w, ids), kExact, std::string("embedding ") + name(dt));
    Tensor g = rand_cpu({3, 7, 24}, dt, 81);
    check_close(kernel::embedding_backward(on_gpu(g), dids, 50), kernel::embedding_backward(g, ids, 50),
                tol_for(dt, Tol{1e-5, 1e-6}), std::string("embedding_backward ") + name(dt));
    for (int64_t bad : {int64_t(50), int64_t(-1)}) {
      Tensor bad_ids = from_vector(std::vector<int64_t>{1, 2, bad, 4}, {4});
      CHECK_THROWS_WITH_AS(kernel::embedding(dw, on_gpu(bad_ids)), doctest::Contains("at position 2"), petl::Error);
      CHECK_THROWS_AS(kernel::embedding_backward(on_gpu(rand_cpu({4, 24}, dt, 82)), on_gpu(bad_ids), 50), petl::Error);
    }
    // The device is still usable after the rejected call.
    check_close(kernel::embedding(dw, dids), kernel::embedding(w, ids), kExact, "embedding after an error");
  }
}

TEST_CASE("cuda: cross entropy backward written over the logits matches the CPU") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const int64_t rows = 9, classes = 300;
    Tensor logits = rand_cpu({rows, classes}, dt, 92);
    std::vector<int64_t> t(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) t[size_t(i)] = i == 4 ? -100 : (i * 31) % classes;
    Tensor targets = from_vector(t, {rows});
    auto want = kernel::cross_entropy(logits, targets, -100);
    Tensor dl = on_gpu(logits);
    auto got = kernel::cross_entropy(dl, on_gpu(targets), -100);
    Tensor g = full({}, 0.8, dt);
    Tensor d = kernel::cross_entropy_backward(on_gpu(g), dl, on_gpu(targets), got.lse, -100, got.count, true);
    CHECK(d.storage() == dl.storage());  // the gradient took the logits' place
    check_close(d, kernel::cross_entropy_backward(g, logits, targets, want.lse, -100, want.count), tol_for(dt),
                std::string("in-place cross_entropy backward ") + name(dt));
  }
}

TEST_CASE("cuda: fused AdamW step matches the CPU") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Shape shape = {7, 1000};
    Tensor p = rand_cpu(shape, dt, 93), g = rand_cpu(shape, dt, 94);
    Tensor m = kernel::binary(BinaryOp::Mul, rand_cpu(shape, dt, 95), full({}, 0.1, dt));
    Tensor v = kernel::binary(BinaryOp::Mul, kernel::unary(UnaryOp::Exp, rand_cpu(shape, dt, 96)), full({}, 0.01, dt));
    Tensor dp = on_gpu(p), dm = on_gpu(m), dv = on_gpu(v);
    const AdamWStep step{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.05,
                         .bias_correction1 = 1 - std::pow(0.9, 3), .bias_correction2 = 1 - std::pow(0.999, 3)};
    kernel::adamw_step_(p, g, m, v, step);
    kernel::adamw_step_(dp, on_gpu(g), dm, dv, step);
    const std::string what = std::string("adamw ") + name(dt);
    check_close(dp, p, tol_for(dt, kF32Elementwise), what + " param");
    check_close(dm, m, tol_for(dt, kF32Elementwise), what + " m");
    check_close(dv, v, tol_for(dt, kF32Elementwise), what + " v");
  }
}

TEST_CASE("cuda: cross entropy with an ignore index, forward and backward") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt);
    for (int64_t classes : {int64_t(37), int64_t(5000)}) {
      const int64_t rows = 20;
      Tensor logits = kernel::binary(BinaryOp::Mul, rand_cpu({rows, classes}, dt, 90), full({}, 3.0, dt));
      std::vector<int64_t> t(static_cast<size_t>(rows));
      for (int64_t i = 0; i < rows; ++i) t[size_t(i)] = i % 5 == 2 ? -100 : (i * 7919) % classes;
      Tensor targets = from_vector(t, {rows});
      Tensor dl = on_gpu(logits), dt_ = on_gpu(targets);
      const std::string what = std::string("cross_entropy ") + name(dt) + " classes " + std::to_string(classes);
      auto want = kernel::cross_entropy(logits, targets, -100);
      auto got = kernel::cross_entropy(dl, dt_, -100);
      CHECK(got.count == want.count);
      check_close(got.loss, want.loss, tol, what + " loss");
      check_close(got.lse, want.lse, tol, what + " lse");
      Tensor g = full({}, 1.7, dt);
      check_close(kernel::cross_entropy_backward(on_gpu(g), dl, dt_, got.lse, -100, got.count),
                  kernel::cross_entropy_backward(g, logits, targets, want.lse, -100, want.count), tol, what + " backward");
    }
    // Every row ignored: loss 0, gradient 0.
    Tensor logits = rand_cpu({3, 4}, dt, 91);
    Tensor targets = from_vector(std::vector<int64_t>{-100, -100, -100}, {3});
    auto got = kernel::cross_entropy(on_gpu(logits), on_gpu(targets), -100);
    CHECK(got.loss.item() == 0.0);
    check_close(kernel::cross_entropy_backward(on_gpu(full({}, 1.0, dt)), on_gpu(logits), on_gpu(targets), got.lse, -100, 0),
                zeros({3, 4}, dt), kExact, "all ignored");
  }
}

TEST_CASE("cuda: fused attention forward and backward (causal, key mask, extra keys, empty rows)") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  struct Case {
    const char* what;
    int64_t B, H, Tq, Tk, D, Dv;
    bool causal, mask;
    double scale;
  };
  const Case cases[] = {
      {"plain", 2, 3, 37, 37, 16, 16, false, false, 0.0},
      {"causal, several tiles", 1, 2, 70, 70, 64, 64, true, false, 0.0},
      {"causal + key mask, Tk > Tq (prefix keys)", 2, 2, 20, 45, 32, 32, true, true, 0.0},
      {"Dv != D, explicit scale", 2, 1, 33, 50, 24, 40, false, true, 0.3},
      {"causal, Tq > Tk (early queries see nothing)", 1, 2, 40, 25, 8, 8, true, false, 0.0},
      {"head dim 128", 1, 2, 130, 130, 128, 128, true, true, 0.0},
      {"single query (decoding)", 2, 2, 1, 67, 64, 64, true, true, 0.0},
  };
  for (DType dt : {DType::F64, DType::F32}) {
    const Tol tol = tol_for(dt);
    for (const Case& c : cases) {
      const std::string what = std::string(c.what) + " " + name(dt);
      INFO(what);
      Tensor q = rand_cpu({c.B, c.H, c.Tq, c.D}, dt, 100), k = rand_cpu({c.B, c.H, c.Tk, c.D}, dt, 101);
      Tensor v = rand_cpu({c.B, c.H, c.Tk, c.Dv}, dt, 102), g = rand_cpu({c.B, c.H, c.Tq, c.Dv}, dt, 103);
      Tensor mask;
      if (c.mask) {
        std::vector<int64_t> m(size_t(c.B * c.Tk));
        for (int64_t b = 0; b < c.B; ++b)
          for (int64_t j = 0; j < c.Tk; ++j)  // batch 0: some keys hidden; the last batch: every key hidden
            m[size_t(b * c.Tk + j)] = b == c.B - 1 && c.B > 1 ? 0 : (j % 3 == 1 ? 0 : 1);
        mask = from_vector(m, {c.B, c.Tk});
      }
      AttentionOptions opts;
      opts.causal = c.causal;
      opts.scale = c.scale;
      Tensor dq_ = on_gpu(q), dk_ = on_gpu(k), dv_ = on_gpu(v), dg = on_gpu(g);
      Tensor dmask = mask.defined() ? on_gpu(mask) : Tensor();
      auto want = kernel::attention(q, k, v, mask, opts);
      auto got = kernel::attention(dq_, dk_, dv_, dmask, opts);
      check_close(got.out, want.out, tol, what + " out");
      check_close(got.lse, want.lse, tol, what + " lse");
      auto wg = kernel::attention_backward(g, q, k, v, mask, want.out, want.lse, opts, true, true, true);
      auto gg = kernel::attention_backward(dg, dq_, dk_, dv_, dmask, got.out, got.lse, opts, true, true, true);
      check_close(gg.dq, wg.dq, tol, what + " dq");
      check_close(gg.dk, wg.dk, tol, what + " dk");
      check_close(gg.dv, wg.dv, tol, what + " dv");
      // Only some gradients requested.
      auto only_q = kernel::attention_backward(dg, dq_, dk_, dv_, dmask, got.out, got.lse, opts, true, false, false);
      CHECK_FALSE(only_q.dk.defined());
      check_close(only_q.dq, wg.dq, tol, what + " dq alone");
      auto only_kv = kernel::attention_backward(dg, dq_, dk_, dv_, dmask, got.out, got.lse, opts, false, false, true);
      CHECK_FALSE(only_kv.dq.defined());
      check_close(only_kv.dv, wg.dv, tol, what + " dv alone");
    }
  }
  Tensor big = zeros({1, 1, 4, 129}, DType::F32, kCuda);
  CHECK_THROWS_AS(kernel::attention(big, big, big, Tensor(), {}), petl::Error);  // head dim above 128
}

TEST_CASE("cuda: the caching allocator serves a repeated step from its free lists") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  CachingAllocator& alloc = allocator_for(kCuda);
  Tensor a = on_gpu(rand_cpu({64, 96}, DType::F32, 110)), b = on_gpu(rand_cpu({96, 80}, DType::F32, 111));
  auto step = [&] {
    Tensor h = kernel::matmul(a, b);
    Tensor s = kernel::softmax(kernel::binary(BinaryOp::Add, h, h), -1, false);
    return kernel::reduce(ReduceOp::Sum, s, {0}, false).to_vector();  // also synchronizes
  };
  step();
  const MemoryStats before = alloc.stats();
  for (int i = 0; i < 10; ++i) step();
  const MemoryStats after = alloc.stats();
  CHECK(after.system_allocs == before.system_allocs);  // no cudaMalloc after the first step
  CHECK(after.cache_hits > before.cache_hits);
  CHECK(after.bytes_in_use == before.bytes_in_use);    // every temporary went back
}

TEST_CASE("cuda: CUDA failures become petl::Error naming the call") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  // 256 TiB: cudaMalloc fails (out of memory), reported with the call and CUDA's error string.
  CHECK_THROWS_WITH_AS(Tensor::empty({int64_t(1) << 46}, DType::F32, kCuda), doctest::Contains("cudaMalloc"),
                       petl::Error);
  CHECK_THROWS_WITH_AS(Tensor::empty({2}, DType::F32, Device::cuda(1000)), doctest::Contains("cuda:1000"), petl::Error);
#if defined(PETL_WITH_CUDA)
  CHECK_THROWS_WITH_AS(PETL_CUDA_CHECK(cudaSetDevice(1 << 20)), doctest::Contains("cudaSetDevice"), petl::Error);
  CHECK_THROWS_WITH_AS(PETL_CUDA_CHECK(cudaSetDevice(1 << 20)), doctest::Contains(cudaGetErrorString(cudaErrorInvalidDevice)),
                       petl::Error);
#endif
  // Nothing is left broken: the next op works.
  check_close(kernel::binary(BinaryOp::Add, ones({3}, DType::F32, kCuda), ones({3}, DType::F32, kCuda)),
              full({3}, 2.0), kExact, "after the errors");
}

TEST_CASE("cuda: an autograd graph on CUDA gives the CPU's gradients") {
  if (!petl::cuda_available()) PETL_SKIP("no CUDA device");
  const Tensor x0 = rand_cpu({2, 6, 16}, DType::F64, 120), w0 = rand_cpu({16, 32}, DType::F64, 121);
  const Tensor b0 = rand_cpu({32}, DType::F64, 122), gamma0 = rand_cpu({32}, DType::F64, 123);
  const Tensor w2_0 = rand_cpu({32, 11}, DType::F64, 124);
  const Tensor targets0 = from_vector(std::vector<int64_t>{1, 4, -100, 10, 0, 3, 3, 7, 2, -100, 9, 5}, {12});
  struct Result { double loss; Tensor dx, dw, db, dgamma, dw2; };
  auto run = [&](Device dev) {
    Tensor x = kernel::to(x0, dev), w = kernel::to(w0, dev), b = kernel::to(b0, dev);
    Tensor gamma = kernel::to(gamma0, dev), w2 = kernel::to(w2_0, dev);
    for (Tensor* t : {&x, &w, &b, &gamma, &w2}) t->set_requires_grad(true);
    Tensor h = gelu(matmul(x, w) + b);                                    // [2, 6, 32]
    Tensor n = layer_norm(h, gamma, Tensor());
    Tensor heads = permute(reshape(n, {2, 6, 4, 8}), {0, 2, 1, 3});       // [2, 4, 6, 8]
    AttentionOptions opts;
    opts.causal = true;
    Tensor a = reshape(permute(attention(heads, heads, heads, Tensor(), opts), {0, 2, 1, 3}), {12, 32});
    Tensor logits = matmul(a, w2);
    Tensor loss = cross_entropy(logits, kernel::to(targets0, dev)) + mean(max(h, {2})) * 0.1;
    backward(loss);
    return Result{loss.item(), x.grad(), w.grad(), b.grad(), gamma.grad(), w2.grad()};
  };
  const Result want = run(Device::cpu()), got = run(kCuda);
  CHECK(got.loss == doctest::Approx(want.loss).epsilon(1e-10));
  check_close(got.dx, want.dx, kF64, "dx");
  check_close(got.dw, want.dw, kF64, "dw");
  check_close(got.db, want.db, kF64, "db");
  check_close(got.dgamma, want.dgamma, kF64, "dgamma");
  check_close(got.dw2, want.dw2, kF64, "dw2");
  CHECK(got.dw.is_cuda());
}

// CPU micro-benchmarks: float32 GEMM through petl next to Eigen called directly on the same
// shapes in the same run (the fused attention's entries are in bench_attention.cpp).
#include <Eigen/Core>
#include <chrono>
#include <cstdio>

#include "autograd/ops.h"
#include "bench/registry.h"
#include "tensor/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;

// Median-free but warm: runs f until `min_seconds` have passed (after one warmup call) and returns
// the mean seconds per call.
template <class F>
double seconds_per_call(F&& f, double min_seconds) {
  f();
  int calls = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  do {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / calls;
}

void gemm_row(int64_t M, int64_t N, int64_t K, double min_seconds) {
  const double flops = 2.0 * double(M) * double(N) * double(K);
  petl::Tensor a = petl::randn({M, K}), b = petl::randn({K, N});
  const double ours = seconds_per_call([&] { petl::kernel::matmul(a, b); }, min_seconds);
  // Eigen directly, its default column-major matrices, output preallocated.
  Eigen::MatrixXf ea = Eigen::MatrixXf::Random(M, K), eb = Eigen::MatrixXf::Random(K, N), ec(M, N);
  const double eigen = seconds_per_call([&] { ec.noalias() = ea * eb; }, min_seconds);
  std::printf("gemm f32 %5lldx%5lldx%5lld  petl %8.1f GFLOP/s   eigen %8.1f GFLOP/s   petl/eigen %5.1f%%\n",
              (long long)M, (long long)N, (long long)K, flops / ours * 1e-9, flops / eigen * 1e-9,
              100.0 * eigen / ours);
}

}  // namespace

PETL_BENCH("cpu_gemm") {
  if (opts.device != "cpu") {
    std::printf("cpu_gemm: CPU only (run with --device cpu)\n");
    return;
  }
  const double t = opts.quick ? 0.2 : 1.0;
  gemm_row(1024, 1024, 1024, t);
  gemm_row(768, 3072, 256, t);
  gemm_row(3072, 768, 256, t);
}

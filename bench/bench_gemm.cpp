// GEMM throughput: float32 GFLOP/s of kernel::matmul at 1 and 2 OpenMP threads for the issue's
// shapes and every GEMM of a GPT-2 124M training step (bench/gemm_shapes.h), operands laid out as
// the step passes them (transposed views, not copies). tools/oracle/bench_torch.py prints the same
// lines for torch.matmul; tools/bench_compare.py alternates the two and takes medians.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/gemm_shapes.h"
#include "bench/registry.h"
#include "tensor/cpu/gemm.h"
#include "tensor/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;

// Median over `samples` of the seconds per call, each sample at least `min_seconds` (and one
// call) long, after one warm-up call.
template <class F>
double median_seconds_per_call(F&& f, int samples, double min_seconds) {
  f();
  std::vector<double> per_call;
  for (int s = 0; s < samples; ++s) {
    int calls = 0;
    double elapsed = 0.0;
    const auto start = Clock::now();
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_seconds);
    per_call.push_back(elapsed / calls);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

// An operand [batch, rows, cols], or the transposed view of a contiguous [batch, cols, rows] one;
// the batch dim is dropped when it is 1 (a plain 2-D product, as a Linear layer runs it).
petl::Tensor operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  petl::Shape shape = transposed ? petl::Shape{batch, cols, rows} : petl::Shape{batch, rows, cols};
  if (batch == 1) shape.erase(shape.begin());
  petl::Tensor x = petl::randn(shape);
  return transposed ? petl::kernel::transpose(x, -1, -2) : x;
}

void gemm_row(const petl::bench::GemmShape& s, bool quick) {
  const double flops = 2.0 * double(s.batch) * double(s.M) * double(s.N) * double(s.K);
  const petl::Tensor a = operand(s.batch, s.M, s.K, s.a_t), b = operand(s.batch, s.K, s.N, s.b_t);
  const int max_threads = omp_get_max_threads();
  double gflops[2] = {0.0, 0.0};
  for (int threads = 1; threads <= 2; ++threads) {
    omp_set_num_threads(threads);
    const double seconds = median_seconds_per_call([&] { petl::kernel::matmul(a, b); }, quick ? 1 : 3, quick ? 0.02 : 0.1);
    gflops[threads - 1] = flops / seconds * 1e-9;
  }
  omp_set_num_threads(max_threads);
  std::printf("gemm f32 %-12s %5lldx%5lldx%5lld %c%c batch %3lld   1 thread %7.1f GFLOP/s   2 threads %7.1f GFLOP/s   (x%.2f)\n",
              s.label.c_str(), (long long)s.M, (long long)s.N, (long long)s.K, s.a_t ? 'T' : 'N', s.b_t ? 'T' : 'N',
              (long long)s.batch, gflops[0], gflops[1], gflops[1] / gflops[0]);
  std::fflush(stdout);
}

bool cpu_only(const petl::bench::Options& opts, const char* name) {
  if (opts.device == "cpu") return true;
  std::printf("%s: CPU only (run with --device cpu)\n", name);
  return false;
}

void header() { std::printf("gemm kernel: %s\n", petl::cpu::gemm_library()); }

}  // namespace

PETL_BENCH("cpu_gemm") {
  if (!cpu_only(opts, "cpu_gemm")) return;
  header();
  for (const auto& s : petl::bench::issue_gemm_shapes()) gemm_row(s, opts.quick);
}

PETL_BENCH("cpu_gemm_gpt2_b4_t64") {
  if (!cpu_only(opts, "cpu_gemm_gpt2_b4_t64")) return;
  header();
  for (const auto& s : petl::bench::gpt2_gemm_shapes(4, 64)) gemm_row(s, opts.quick);
}

PETL_BENCH("cpu_gemm_gpt2_b8_t256") {
  if (!cpu_only(opts, "cpu_gemm_gpt2_b8_t256")) return;
  header();
  for (const auto& s : petl::bench::gpt2_gemm_shapes(8, 256)) gemm_row(s, opts.quick);
}

// cpu_fused_ops: the fused bias + GELU and residual add + layer norm (autograd/bias_activation.cpp,
// autograd/layer_norm.cpp) against the unfused ops they replace, forward + backward through
// autograd, at a GPT-2 124M step's shapes (rows = B*T; 4d = 3072 for the MLP, d = 768), at 1 and 2
// threads. The fused and unfused variants alternate call by call, so load from other processes
// falls on both alike; each figure is the median over calls of the process's CPU time and wall
// clock.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <vector>

#include <omp.h>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "bench/measure.h"
#include "bench/registry.h"

namespace {

using Clock = std::chrono::steady_clock;
using petl::Tensor;
using petl::bench::median;

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

Tensor random_leaf(const petl::Shape& shape, uint64_t seed) {
  petl::Generator gen(seed);
  Tensor t = petl::randn(shape, petl::DType::F32, petl::Device::cpu(), gen);
  t.set_requires_grad(true);
  return t;
}

// Medians of wall and CPU milliseconds for a and b, called alternately (one warm-up call each).
void compare(const char* what, int64_t rows, int64_t n, const std::function<void()>& fused,
             const std::function<void()>& unfused, double min_seconds) {
  fused();
  unfused();
  std::vector<double> fw, fc, uw, uc;
  const auto start = Clock::now();
  while (fw.size() < 5 || std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
    for (int variant = 0; variant < 2; ++variant) {
      const auto t0 = Clock::now();
      const double c0 = process_cpu_ms();
      (variant == 0 ? fused : unfused)();
      const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      const double cpu = process_cpu_ms() - c0;
      (variant == 0 ? fw : uw).push_back(wall);
      (variant == 0 ? fc : uc).push_back(cpu);
    }
  }
  std::printf("petl %-22s [%lld, %lld] threads=%d  fused %.3f ms (cpu %.3f)  unfused %.3f ms (cpu %.3f)  "
              "unfused / fused %.2f (cpu %.2f)  (%zu calls each)\n",
              what, (long long)rows, (long long)n, omp_get_max_threads(), median(fw), median(fc), median(uw),
              median(uc), median(uw) / median(fw), median(uc) / median(fc), fw.size());
  std::fflush(stdout);
}

void fused_rows(int64_t rows, int64_t d, double min_seconds) {
  const int max_threads = omp_get_max_threads();
  for (int threads : {1, 2}) {
    if (threads > max_threads) break;
    omp_set_num_threads(threads);
    {  // the MLP's c_fc output x [rows, 4d] + b, then gelu_new; y reduced against a fixed cotangent
      Tensor x = random_leaf({rows, 4 * d}, 1), b = random_leaf({4 * d}, 2);
      const Tensor up = random_leaf({rows, 4 * d}, 3).detach();
      compare("bias+gelu fwd+bwd", rows, 4 * d,
              [&] {
                x.zero_grad();
                b.zero_grad();
                petl::backward(petl::bias_gelu(x, b), up);
              },
              [&] {
                x.zero_grad();
                b.zero_grad();
                petl::backward(petl::gelu(x + b), up);
              },
              min_seconds);
    }
    {  // a = h + A, w = ln_2(a); both reach the output (w through the MLP, a through the residual)
      Tensor h = random_leaf({rows, d}, 4), A = random_leaf({rows, d}, 5);
      Tensor g = random_leaf({d}, 6), beta = random_leaf({d}, 7);
      const Tensor up_w = random_leaf({rows, d}, 8).detach(), up_a = random_leaf({rows, d}, 9).detach();
      compare("residual+layernorm f+b", rows, d,
              [&] {
                for (Tensor* t : {&h, &A, &g, &beta}) t->zero_grad();
                const auto [a, w] = petl::add_layer_norm(h, A, g, beta);
                petl::backward(petl::sum(w * up_w) + petl::sum(a * up_a));
              },
              [&] {
                for (Tensor* t : {&h, &A, &g, &beta}) t->zero_grad();
                const Tensor a = h + A, w = petl::layer_norm(a, g, beta);
                petl::backward(petl::sum(w * up_w) + petl::sum(a * up_a));
              },
              min_seconds);
    }
  }
  omp_set_num_threads(max_threads);
}

}  // namespace

PETL_BENCH("cpu_fused_ops") {
  const double min_seconds = opts.quick ? 0.1 : 1.0;
  fused_rows(opts.quick ? 64 : 256, opts.quick ? 128 : 768, min_seconds);  // B=4, T=64
  if (!opts.quick) fused_rows(2048, 768, min_seconds);                     // B=8, T=256
}

// The fused CPU attention (tensor/cpu/attention.cpp) at the shapes of issue 11 and of a GPT-2 step,
// at 1 and 2 threads. tools/oracle/bench_torch.py prints the same lines for torch's
// scaled_dot_product_attention; tools/oracle/compare_attention.py runs the two alternately and
// prints the median ratios.
//
// Every figure is the median over individually timed calls (after one warm-up call), so a burst of
// load from other processes on a shared machine moves it less than a mean would.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

#include <omp.h>

#include "autograd/ops.h"
#include "bench/measure.h"
#include "bench/registry.h"
#include "tensor/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;
using petl::bench::median;

// Milliseconds per call of f, medians over calls: wall clock, and this process's CPU time (all its
// threads). On a machine shared with other jobs the CPU time is the steadier figure; at one thread it
// is what the wall clock would read on an idle machine.
struct Timing {
  double wall_ms, cpu_ms;
};

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

// Calls f (after one warm-up call) until `min_seconds` have passed and at least 5 calls.
template <class F>
Timing median_ms(F&& f, double min_seconds) {
  f();
  std::vector<double> wall, cpu;
  const auto start = Clock::now();
  while (wall.size() < 5 || std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
    const auto t0 = Clock::now();
    const double c0 = process_cpu_ms();
    f();
    cpu.push_back(process_cpu_ms() - c0);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return {median(wall), median(cpu)};
}

struct AttentionShape {
  int64_t B, H, Tq, Tk, D;
  bool with_backward;  // decoding shapes time the forward only
};

// One line per thread count: forward, and forward + backward through autograd (dQ, dK, dV).
void attention_rows(const AttentionShape& s, double min_seconds) {
  petl::Tensor q = petl::randn({s.B, s.H, s.Tq, s.D}), k = petl::randn({s.B, s.H, s.Tk, s.D}),
               v = petl::randn({s.B, s.H, s.Tk, s.D}), g = petl::randn({s.B, s.H, s.Tq, s.D});
  petl::AttentionOptions causal;
  causal.causal = true;
  const int max_threads = omp_get_max_threads();
  for (int threads : {1, 2}) {
    if (threads > max_threads) break;
    omp_set_num_threads(threads);
    q.set_requires_grad(false), k.set_requires_grad(false), v.set_requires_grad(false);
    const Timing fwd = median_ms([&] { petl::kernel::attention(q, k, v, petl::Tensor(), causal); }, min_seconds);
    std::printf("petl attention causal B=%lld H=%lld Tq=%lld Tk=%lld D=%lld threads=%d  forward %.3f ms (cpu %.3f ms)",
                (long long)s.B, (long long)s.H, (long long)s.Tq, (long long)s.Tk, (long long)s.D, threads, fwd.wall_ms,
                fwd.cpu_ms);
    if (s.with_backward) {
      q.set_requires_grad(true), k.set_requires_grad(true), v.set_requires_grad(true);
      const Timing fwd_bwd = median_ms(
          [&] {
            q.zero_grad(), k.zero_grad(), v.zero_grad();
            petl::backward(petl::attention(q, k, v, petl::Tensor(), causal), g);
          },
          min_seconds);
      std::printf("  forward+backward %.3f ms (cpu %.3f ms)", fwd_bwd.wall_ms, fwd_bwd.cpu_ms);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  omp_set_num_threads(max_threads);
}

bool cpu_only(const petl::bench::Options& opts, const char* name) {
  if (opts.device == "cpu") return true;
  std::printf("%s: CPU only (run with --device cpu)\n", name);
  return false;
}

}  // namespace

// Issue 11's shape: B=4, H=12, T=256, D=64.
PETL_BENCH("cpu_attention") {
  if (!cpu_only(opts, "cpu_attention")) return;
  attention_rows(opts.quick ? AttentionShape{1, 12, 128, 128, 64, true} : AttentionShape{4, 12, 256, 256, 64, true},
                 opts.quick ? 0.2 : 1.0);
  const auto stats = petl::allocator_for(petl::Device::cpu()).stats();
  std::printf("cpu allocator: %.1f MiB in use, peak %.1f MiB, %lld system allocations, %lld cache hits\n",
              double(stats.bytes_in_use) / (1 << 20), double(stats.peak_bytes_in_use) / (1 << 20),
              (long long)stats.system_allocs, (long long)stats.cache_hits);
}

// GPT-2 124M's attention in a B=8, T=256 training step.
PETL_BENCH("cpu_attention_b8_t256") {
  if (!cpu_only(opts, "cpu_attention_b8_t256")) return;
  attention_rows(opts.quick ? AttentionShape{2, 12, 128, 128, 64, true} : AttentionShape{8, 12, 256, 256, 64, true},
                 opts.quick ? 0.2 : 1.0);
}

// GPT-2 124M's attention in a B=4, T=64 training step.
PETL_BENCH("cpu_attention_b4_t64") {
  if (!cpu_only(opts, "cpu_attention_b4_t64")) return;
  attention_rows(AttentionShape{4, 12, 64, 64, 64, true}, opts.quick ? 0.2 : 1.0);
}

// One decoding step with the KV cache: one new query over 80 cached keys (bench_gpt2's gpt2_decode
// reaches 16 + 64 positions).
PETL_BENCH("cpu_attention_decode") {
  if (!cpu_only(opts, "cpu_attention_decode")) return;
  attention_rows(AttentionShape{1, 12, 1, 80, 64, false}, opts.quick ? 0.2 : 1.0);
}

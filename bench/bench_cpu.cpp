// CPU micro-benchmark: one fused attention forward + backward (the GEMM entries are in
// bench_gemm.cpp).
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

}  // namespace

PETL_BENCH("cpu_attention") {
  if (opts.device != "cpu") {
    std::printf("cpu_attention: CPU only (run with --device cpu)\n");
    return;
  }
  const int64_t B = opts.quick ? 1 : 4, H = 12, T = opts.quick ? 128 : 256, D = 64;
  petl::Tensor q = petl::randn({B, H, T, D}), k = petl::randn({B, H, T, D}), v = petl::randn({B, H, T, D});
  q.set_requires_grad(true);
  k.set_requires_grad(true);
  v.set_requires_grad(true);
  petl::AttentionOptions opts_causal;
  opts_causal.causal = true;
  petl::Tensor g = petl::randn({B, H, T, D});
  const double fwd = seconds_per_call([&] { petl::kernel::attention(q, k, v, petl::Tensor(), opts_causal); }, 0.5);
  const double fwd_bwd = seconds_per_call(
      [&] {
        q.zero_grad(), k.zero_grad(), v.zero_grad();
        petl::Tensor o = petl::attention(q, k, v, petl::Tensor(), opts_causal);
        petl::backward(o, g);
      },
      0.5);
  // Dense FLOPs of the products (QK^T and PV forward; five products in backward), masked half included.
  const double f = 2.0 * double(B * H) * double(T) * double(T) * double(D);
  std::printf("attention f32 causal B=%lld H=%lld T=%lld D=%lld  forward %.2f ms (%.1f GFLOP/s)  "
              "forward+backward %.2f ms (%.1f GFLOP/s)\n",
              (long long)B, (long long)H, (long long)T, (long long)D, fwd * 1e3, 2 * f / fwd * 1e-9,
              fwd_bwd * 1e3, 7 * f / fwd_bwd * 1e-9);
  const auto stats = petl::allocator_for(petl::Device::cpu()).stats();
  std::printf("cpu allocator: %.1f MiB in use, peak %.1f MiB, %lld system allocations, %lld cache hits\n",
              double(stats.bytes_in_use) / (1 << 20), double(stats.peak_bytes_in_use) / (1 << 20),
              (long long)stats.system_allocs, (long long)stats.cache_hits);
}

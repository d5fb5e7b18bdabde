// CUDA benchmarks (petl_bench --device cuda):
//   cuda_gemm:      float32 GEMM TFLOP/s through petl's kernel::matmul next to cuBLAS called
//                   directly on the same shapes and the same stream, TF32 on and off.
//   cuda_attention: the fused attention kernels, forward and forward + backward, causal.
// Both print the device memory in use afterwards (petl's allocator and cudaMemGetInfo). Timing:
// CUDA events around `iters` back-to-back calls after a warmup.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/registry.h"
#include "tensor/allocator.h"
#include "tensor/cuda/settings.h"
#include "tensor/kernels.h"

#if defined(PETL_WITH_CUDA)
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "tensor/cuda/check.h"
#include "tensor/cuda/context.h"
#endif

namespace {

bool cuda_bench_wanted(const petl::bench::Options& opts, const char* name) {
  if (opts.device != "cuda") {
    std::printf("%s: runs only with --device cuda\n", name);
    return false;
  }
  if (!petl::cuda_available()) {
    std::printf("%s: no CUDA device available (or petl built without CUDA), nothing to measure\n", name);
    return false;
  }
  return true;
}

#if defined(PETL_WITH_CUDA)

// Milliseconds per call of f, timed with events on `stream` over `iters` calls after `warmup`.
template <class F>
double time_ms(cudaStream_t stream, int warmup, int iters, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  PETL_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t start, stop;
  PETL_CUDA_CHECK(cudaEventCreate(&start));
  PETL_CUDA_CHECK(cudaEventCreate(&stop));
  PETL_CUDA_CHECK(cudaEventRecord(start, stream));
  for (int i = 0; i < iters; ++i) f();
  PETL_CUDA_CHECK(cudaEventRecord(stop, stream));
  PETL_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0.0f;
  PETL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  PETL_CUDA_CHECK(cudaEventDestroy(start));
  PETL_CUDA_CHECK(cudaEventDestroy(stop));
  return double(ms) / iters;
}

void print_memory() {
  const petl::MemoryStats s = petl::allocator_for(petl::Device::cuda()).stats();
  std::size_t free_bytes = 0, total_bytes = 0;
  PETL_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  std::printf("memory: petl in use %.1f MiB (peak %.1f MiB), cached %.1f MiB, %lld cudaMalloc calls, %lld cache hits; "
              "device %.0f MiB used of %.0f MiB\n",
              double(s.bytes_in_use) / 1048576.0, double(s.peak_bytes_in_use) / 1048576.0,
              double(s.bytes_cached) / 1048576.0, static_cast<long long>(s.system_allocs),
              static_cast<long long>(s.cache_hits), double(total_bytes - free_bytes) / 1048576.0,
              double(total_bytes) / 1048576.0);
}

struct GemmShape {
  int64_t M, N, K;
};

void run_gemm(const petl::bench::Options& opts) {
  using namespace petl;
  cudaStream_t stream = cuda::context(0).stream;
  cublasHandle_t handle;
  PETL_CUBLAS_CHECK(cublasCreate(&handle));
  PETL_CUBLAS_CHECK(cublasSetStream(handle, stream));
  std::vector<GemmShape> shapes = {{1024, 1024, 1024}, {4096, 4096, 4096}, {768, 3072, 256}};
  if (opts.quick) shapes = {{1024, 1024, 1024}, {768, 3072, 256}};
  std::printf("float32 C[M,N] = A[M,K] B[K,N], row-major; petl = kernel::matmul (output allocated per call), "
              "cuBLAS = cublasGemmEx on the same stream\n");
  Generator gen(7);
  for (const GemmShape& s : shapes) {
    Tensor a = randn({s.M, s.K}, DType::F32, Device::cuda(), gen);
    Tensor b = randn({s.K, s.N}, DType::F32, Device::cuda(), gen);
    Tensor c = Tensor::empty({s.M, s.N}, DType::F32, Device::cuda());
    const double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
    const int iters = opts.quick ? 10 : int(std::clamp(5e12 / flops, 10.0, 500.0));
    for (bool tf32 : {true, false}) {
      cuda::ScopedTf32 mode(tf32);
      PETL_CUBLAS_CHECK(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
      const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      const double petl_ms = time_ms(stream, 3, iters, [&] { (void)kernel::matmul(a, b); });
      const float alpha = 1.0f, beta = 0.0f;
      // Row-major C = A B is column-major C^T = B^T A^T: m = N, n = M, k = K.
      const double cublas_ms = time_ms(stream, 3, iters, [&] {
        PETL_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, int(s.N), int(s.M), int(s.K), &alpha,
                                       b.raw_data(), CUDA_R_32F, int(s.N), a.raw_data(), CUDA_R_32F, int(s.K), &beta,
                                       c.raw_data(), CUDA_R_32F, int(s.N), compute, CUBLAS_GEMM_DEFAULT));
      });
      const double petl_tf = flops / (petl_ms * 1e-3) / 1e12, cublas_tf = flops / (cublas_ms * 1e-3) / 1e12;
      std::printf("M=%-5lld N=%-5lld K=%-5lld %-8s petl %8.2f TFLOP/s (%.3f ms)   cuBLAS %8.2f TFLOP/s (%.3f ms)   "
                  "petl/cuBLAS %5.1f%%\n",
                  static_cast<long long>(s.M), static_cast<long long>(s.N), static_cast<long long>(s.K),
                  tf32 ? "TF32" : "FP32", petl_tf, petl_ms, cublas_tf, cublas_ms, 100.0 * petl_tf / cublas_tf);
      std::fflush(stdout);
    }
  }
  PETL_CUBLAS_CHECK(cublasDestroy(handle));
  print_memory();
}

void run_attention(const petl::bench::Options& opts) {
  using namespace petl;
  cudaStream_t stream = cuda::context(0).stream;
  const int64_t B = opts.quick ? 1 : 4, H = opts.quick ? 4 : 12, T = opts.quick ? 256 : 512, D = 64;
  Generator gen(11);
  AttentionOptions attn;
  attn.causal = true;
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor q = randn({B, H, T, D}, dt, Device::cuda(), gen), k = randn({B, H, T, D}, dt, Device::cuda(), gen);
    Tensor v = randn({B, H, T, D}, dt, Device::cuda(), gen), g = randn({B, H, T, D}, dt, Device::cuda(), gen);
    const int iters = opts.quick ? 5 : 20;
    const double fwd_ms = time_ms(stream, 3, iters, [&] { (void)kernel::attention(q, k, v, Tensor(), attn); });
    const double both_ms = time_ms(stream, 3, iters, [&] {
      kernel::AttentionOut o = kernel::attention(q, k, v, Tensor(), attn);
      (void)kernel::attention_backward(g, q, k, v, Tensor(), o.out, o.lse, attn, true, true, true);
    });
    // Causal: half of the 4 B H T^2 D forward FLOPs are needed; backward is 2.5x the forward.
    const double fwd_flops = 0.5 * 4.0 * double(B * H) * double(T) * double(T) * double(D);
    std::printf("%s B=%lld H=%lld T=%lld D=%lld causal: forward %.3f ms (%.2f TFLOP/s), forward+backward %.3f ms "
                "(%.2f TFLOP/s)\n",
                dtype_name(dt), static_cast<long long>(B), static_cast<long long>(H), static_cast<long long>(T),
                static_cast<long long>(D), fwd_ms, fwd_flops / (fwd_ms * 1e-3) / 1e12, both_ms,
                3.5 * fwd_flops / (both_ms * 1e-3) / 1e12);
    std::fflush(stdout);
  }
  print_memory();
}

#endif  // PETL_WITH_CUDA

}  // namespace

PETL_BENCH("cuda_gemm") {
  if (!cuda_bench_wanted(opts, "cuda_gemm")) return;
#if defined(PETL_WITH_CUDA)
  run_gemm(opts);
#endif
}

PETL_BENCH("cuda_attention") {
  if (!cuda_bench_wanted(opts, "cuda_attention")) return;
#if defined(PETL_WITH_CUDA)
  run_attention(opts);
#endif
}

// Host emulation of the CUDA runtime, cuBLAS and kernel execution, for running the CUDA backend's
// tests without a GPU (see docs/cuda.md, "Without a GPU"). One emulated device with 2 SMs
// (EMU_SMS overrides) and 227 KiB of opt-in shared memory. Kernels run block by block; the threads of a block are ucontext
// coroutines switched at barriers. Testing only: nothing here is part of petl.
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include "emu_device.h"

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

static cudaError_t g_last = cudaSuccess;
static cudaError_t fail(cudaError_t e) { g_last = e; return e; }
long long emu_launches = 0;
namespace emu { long long emu_launches_total() { return emu_launches; } }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    default: return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    default: return "unknown error";
  }
}
cudaError_t cudaGetLastError() { cudaError_t e = g_last; g_last = cudaSuccess; return e; }
cudaError_t cudaPeekAtLastError() { return g_last; }
cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
static int g_dev = 0;
cudaError_t cudaGetDevice(int* d) { *d = g_dev; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { if (d != 0) return fail(cudaErrorInvalidDevice); g_dev = d; return cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { *s = reinterpret_cast<cudaStream_t>(0x1234); return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  static const int sms = getenv("EMU_SMS") ? atoi(getenv("EMU_SMS")) : 2;
  *v = a == cudaDevAttrMultiProcessorCount ? sms : 232448;
  return cudaSuccess;
}
static std::map<void*, size_t> g_allocs;
cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (bytes > (size_t(8) << 30)) return fail(cudaErrorMemoryAllocation);
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  std::memset(*p, 0xFF, bytes);  // NaN garbage: reading unwritten memory shows up
  g_allocs[*p] = bytes;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) { g_allocs.erase(p); std::free(p); return cudaSuccess; }
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) { *f = size_t(70) << 30; *t = size_t(80) << 30; return cudaSuccess; }
static void check_device_range(const void* p, size_t n, const char* what) {
  auto it = g_allocs.upper_bound(const_cast<void*>(p));
  if (it == g_allocs.begin()) { fprintf(stderr, "emu: %s outside device memory\n", what); abort(); }
  --it;
  const char* base = static_cast<const char*>(it->first);
  if (static_cast<const char*>(p) + n > base + it->second) { fprintf(stderr, "emu: %s overruns an allocation\n", what); abort(); }
}
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind k, cudaStream_t) {
  if (k == cudaMemcpyHostToDevice || k == cudaMemcpyDeviceToDevice) check_device_range(d, n, "memcpy dst");
  if (k == cudaMemcpyDeviceToHost || k == cudaMemcpyDeviceToDevice) check_device_range(s, n, "memcpy src");
  std::memcpy(d, s, n); return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t) { check_device_range(d, n, "memset"); std::memset(d, v, n); return cudaSuccess; }
static std::map<const void*, int> g_smem_attr;
cudaError_t emu_func_set_attribute(const void* fn, cudaFuncAttribute, int v) {
  if (v > 232448) return fail(cudaErrorInvalidValue);
  g_smem_attr[fn] = v; return cudaSuccess;
}

// ---- cooperative threads
namespace emu {
enum State { Ready, WaitBlock, WaitWarp, Done };
struct Thread { ucontext_t ctx; State state; };
static ucontext_t g_sched;
static std::vector<Thread> g_threads;
// One stack per thread slot, grown to the largest block launched and reused by every launch. Owned
// here, so they are freed at exit (a sanitizer run must report no leak).
static std::vector<std::unique_ptr<char[]>> g_stacks;
static int g_cur = -1;
static const std::function<void()>* g_body;
alignas(16) static unsigned char g_smem[256 * 1024];
alignas(16) static unsigned char g_slots[1024 * 8];
constexpr size_t kStack = 256 * 1024;

unsigned char* dynamic_smem() { return g_smem; }
unsigned char* shfl_slots() { return g_slots; }
unsigned linear_tid() { return unsigned(g_cur); }
static void set_idx(int t) {
  threadIdx.x = unsigned(t) % blockDim.x;
  threadIdx.y = (unsigned(t) / blockDim.x) % blockDim.y;
  threadIdx.z = unsigned(t) / (blockDim.x * blockDim.y);
}
__attribute__((noinline)) void syncthreads() { g_threads[size_t(g_cur)].state = WaitBlock; swapcontext(&g_threads[size_t(g_cur)].ctx, &g_sched); }
__attribute__((noinline)) void warp_barrier() { g_threads[size_t(g_cur)].state = WaitWarp; swapcontext(&g_threads[size_t(g_cur)].ctx, &g_sched); }
static void entry() { (*g_body)(); g_threads[size_t(g_cur)].state = Done; }

void run_grid(const void* fn, const LaunchConfig& cfg, const std::function<void()>& body) {
  ++emu_launches;
  const unsigned nt = cfg.block.x * cfg.block.y * cfg.block.z;
  if (nt == 0 || nt > 1024 || cfg.grid.x == 0 || cfg.grid.y == 0 || cfg.grid.z == 0 || cfg.grid.y > 65535) { fail(cudaErrorInvalidConfiguration); return; }
  if (cfg.smem > 48 * 1024) {
    auto it = g_smem_attr.find(fn);
    if (it == g_smem_attr.end() || size_t(it->second) < cfg.smem) { fail(cudaErrorInvalidValue); return; }
  }
  blockDim = cfg.block; gridDim = cfg.grid;
  g_body = &body;
  while (g_stacks.size() < nt) g_stacks.push_back(std::make_unique<char[]>(kStack));
  g_threads.assign(nt, Thread{});
  for (unsigned bz = 0; bz < cfg.grid.z; ++bz)
  for (unsigned by = 0; by < cfg.grid.y; ++by)
  for (unsigned bx = 0; bx < cfg.grid.x; ++bx) {
    blockIdx.x = bx; blockIdx.y = by; blockIdx.z = bz;
    std::memset(g_smem, 0xFF, cfg.smem);
    for (unsigned t = 0; t < nt; ++t) {
      Thread& th = g_threads[t];
      getcontext(&th.ctx);
      th.ctx.uc_stack.ss_sp = g_stacks[t].get();
      th.ctx.uc_stack.ss_size = kStack;
      th.ctx.uc_link = &g_sched;
      makecontext(&th.ctx, entry, 0);
      th.state = Ready;
    }
    static const char* order_env = getenv("EMU_ORDER");
    static const int order_mode = !order_env ? 0 : std::string(order_env) == "reverse" ? 1 : 2;
    static unsigned long long rng = 88172645463325252ull;
    std::vector<unsigned> order(nt);
    for (;;) {
      for (unsigned t = 0; t < nt; ++t) order[t] = order_mode == 1 ? nt - 1 - t : t;
      if (order_mode == 2)
        for (unsigned t = nt; t > 1; --t) {
          rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
          std::swap(order[t - 1], order[rng % t]);
        }
      for (unsigned ti = 0; ti < nt; ++ti) {
        const unsigned t = order[ti];
        if (g_threads[t].state != Ready) continue;
        g_cur = int(t); set_idx(int(t));
        swapcontext(&g_sched, &g_threads[t].ctx);
      }
      bool all_done = true, released = false;
      for (auto& th : g_threads) all_done = all_done && th.state == Done;
      if (all_done) break;
      // warp barriers
      for (unsigned w0 = 0; w0 < nt; w0 += 32) {
        const unsigned w1 = std::min(nt, w0 + 32);
        bool any_wait = false, all_ok = true, any_done = false;
        for (unsigned t = w0; t < w1; ++t) {
          any_wait |= g_threads[t].state == WaitWarp;
          any_done |= g_threads[t].state == Done;
          all_ok &= g_threads[t].state == WaitWarp || g_threads[t].state == Done;
        }
        if (any_wait && all_ok) {
          if (any_done || w1 - w0 != 32) { fprintf(stderr, "emu: warp shuffle with exited or missing lanes\n"); abort(); }
          for (unsigned t = w0; t < w1; ++t) g_threads[t].state = Ready;
          released = true;
        }
      }
      if (!released) {
        bool any_wait = false, all_ok = true;
        for (auto& th : g_threads) { any_wait |= th.state == WaitBlock; all_ok &= th.state == WaitBlock || th.state == Done; }
        if (any_wait && all_ok) { for (auto& th : g_threads) if (th.state == WaitBlock) th.state = Ready; released = true; }
      }
      if (!released) { fprintf(stderr, "emu: deadlock (divergent barrier)\n"); abort(); }
    }
  }
}
}  // namespace emu

// ---- cuBLAS
static cublasContext* g_handle = reinterpret_cast<cublasContext*>(0x42);
cublasStatus_t cublasCreate(cublasHandle_t* h) { *h = g_handle; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasDestroy(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
const char* cublasGetStatusName(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_INVALID_VALUE"; }
const char* cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "success" : "an invalid numeric value was used as an argument"; }
long long emu_gemms = 0;
static float to_tf32(float x) {  // round to nearest, 10 explicit mantissa bits
  uint32_t u; std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  u += 0x00000fffu + ((u >> 13) & 1u);
  u &= 0xffffe000u;
  float r; std::memcpy(&r, &u, 4); return r;
}
template <class T>
static void gemm_t(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, T alpha, const T* A, int lda,
                   const T* B, int ldb, T beta, T* C, int ldc, bool tf32) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double acc = 0;
      for (int l = 0; l < k; ++l) {
        T a = ta == CUBLAS_OP_N ? A[i + size_t(l) * lda] : A[l + size_t(i) * lda];
        T b = tb == CUBLAS_OP_N ? B[l + size_t(j) * ldb] : B[j + size_t(l) * ldb];
        if constexpr (sizeof(T) == 4) if (tf32) { a = to_tf32(a); b = to_tf32(b); }
        acc += double(a) * double(b);
      }
      T& c = C[i + size_t(j) * ldc];
      c = beta == T(0) ? T(alpha * acc) : T(alpha * acc + beta * double(c));
    }
}
static cublasStatus_t gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void* alpha,
                           const void* A, cudaDataType_t at, int lda, long long sA, const void* B, cudaDataType_t bt,
                           int ldb, long long sB, const void* beta, void* C, cudaDataType_t ct, int ldc, long long sC,
                           int batch, cublasComputeType_t comp) {
  ++emu_gemms;
  auto mx = [](int a, int b) { return a > b ? a : b; };
  if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < mx(1, ta == CUBLAS_OP_N ? m : k) || ldb < mx(1, tb == CUBLAS_OP_N ? k : n) || ldc < mx(1, m)) {
    fprintf(stderr, "emu cublas: bad ld (m=%d n=%d k=%d lda=%d ldb=%d ldc=%d ta=%d tb=%d)\n", m, n, k, lda, ldb, ldc, ta, tb);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (at != bt || at != ct) return CUBLAS_STATUS_INVALID_VALUE;
  const bool f32 = at == CUDA_R_32F;
  if (f32 != (comp == CUBLAS_COMPUTE_32F || comp == CUBLAS_COMPUTE_32F_FAST_TF32)) return CUBLAS_STATUS_INVALID_VALUE;
  for (int b = 0; b < batch; ++b) {
    if (f32) gemm_t<float>(ta, tb, m, n, k, *static_cast<const float*>(alpha), static_cast<const float*>(A) + b * sA, lda,
                           static_cast<const float*>(B) + b * sB, ldb, *static_cast<const float*>(beta),
                           static_cast<float*>(C) + b * sC, ldc, comp == CUBLAS_COMPUTE_32F_FAST_TF32);
    else gemm_t<double>(ta, tb, m, n, k, *static_cast<const double*>(alpha), static_cast<const double*>(A) + b * sA, lda,
                        static_cast<const double*>(B) + b * sB, ldb, *static_cast<const double*>(beta),
                        static_cast<double*>(C) + b * sC, ldc, false);
  }
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void* alpha,
                            const void* A, cudaDataType_t at, int lda, const void* B, cudaDataType_t bt, int ldb,
                            const void* beta, void* C, cudaDataType_t ct, int ldc, cublasComputeType_t comp, cublasGemmAlgo_t) {
  return gemm(ta, tb, m, n, k, alpha, A, at, lda, 0, B, bt, ldb, 0, beta, C, ct, ldc, 0, 1, comp);
}
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                          const void* alpha, const void* A, cudaDataType_t at, int lda, long long sA,
                                          const void* B, cudaDataType_t bt, int ldb, long long sB, const void* beta,
                                          void* C, cudaDataType_t ct, int ldc, long long sC, int batch,
                                          cublasComputeType_t comp, cublasGemmAlgo_t) {
  return gemm(ta, tb, m, n, k, alpha, A, at, lda, sA, B, bt, ldb, sB, beta, C, ct, ldc, sC, batch, comp);
}
// Printed at exit, so a run shows that kernels really executed.
namespace {
struct Report {
  ~Report() { fprintf(stderr, "emu: %lld kernel launches, %lld gemm calls\n", emu::emu_launches_total(), emu_gemms); }
} g_report;
}  // namespace

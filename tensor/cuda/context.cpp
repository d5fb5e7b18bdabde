// Devices, streams, cuBLAS handles and the TF32 switch (see context.h, settings.h).
#include "tensor/cuda/context.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "tensor/cuda/check.h"
#include "tensor/cuda/settings.h"

namespace petl::cuda {

namespace {

struct DeviceInfo {
  int count = 0;
  std::string reason;
};

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo d;
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();  // clear the error so later calls do not see it
      d.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      return d;
    }
    d.count = n;
    if (n == 0) d.reason = "cudaGetDeviceCount reported 0 devices";
    return d;
  }();
  return info;
}

std::mutex& contexts_mutex() {
  static std::mutex m;
  return m;
}

// Never destroyed: streams and handles live until the process ends (destroying them from a
// static destructor would race the CUDA runtime's own teardown).
std::vector<std::unique_ptr<Context>>& contexts() {
  static auto* v = new std::vector<std::unique_ptr<Context>>();
  return *v;
}

bool parse_tf32_env() {
  const char* env = std::getenv("PETL_CUDA_TF32");
  if (!env) return true;
  return !(std::strcmp(env, "0") == 0 || std::strcmp(env, "false") == 0 || std::strcmp(env, "off") == 0 ||
           std::strcmp(env, "OFF") == 0 || std::strcmp(env, "FALSE") == 0);
}

std::atomic<bool>& tf32_flag() {
  static std::atomic<bool> flag(parse_tf32_env());
  return flag;
}

}  // namespace

int device_count() { return device_info().count; }
const std::string& no_device_reason() { return device_info().reason; }

void set_current_device(int device) {
  int current = -1;
  PETL_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device) PETL_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::DeviceGuard(int device) {
  PETL_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) PETL_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_ && previous_ >= 0) (void)cudaSetDevice(previous_);
}

Context& context(int device) {
  const int count = device_count();
  PETL_CHECK(count > 0, "CUDA: no CUDA device is available (", no_device_reason(), ")");
  PETL_CHECK(device >= 0 && device < count, "CUDA: device cuda:", device, " does not exist (", count,
             " device(s) visible)");
  set_current_device(device);
  std::lock_guard<std::mutex> lock(contexts_mutex());
  auto& all = contexts();
  if (all.size() < size_t(count)) all.resize(size_t(count));
  std::unique_ptr<Context>& slot = all[size_t(device)];
  if (!slot) {
    auto ctx = std::make_unique<Context>();
    ctx->device = device;
    PETL_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
    PETL_CUBLAS_CHECK(cublasCreate(&ctx->cublas));
    PETL_CUBLAS_CHECK(cublasSetStream(ctx->cublas, ctx->stream));
    PETL_CUDA_CHECK(cudaDeviceGetAttribute(&ctx->sm_count, cudaDevAttrMultiProcessorCount, device));
    PETL_CUDA_CHECK(cudaDeviceGetAttribute(&ctx->max_shared_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    slot = std::move(ctx);
  }
  return *slot;
}

int grid_for(int64_t n, int threads, const Context& ctx) {
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = int64_t(std::max(ctx.sm_count, 1)) * 32;  // 32 resident-block waves' worth
  return int(std::max<int64_t>(1, std::min(needed, cap)));
}

void set_tf32(bool enabled) { tf32_flag().store(enabled); }
bool tf32_enabled() { return tf32_flag().load(); }

void synchronize_all() {
  std::vector<std::pair<int, cudaStream_t>> streams;
  {
    std::lock_guard<std::mutex> lock(contexts_mutex());
    for (const auto& c : contexts())
      if (c) streams.emplace_back(c->device, c->stream);
  }
  for (const auto& [device, stream] : streams) {
    DeviceGuard guard(device);
    PETL_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
}

}  // namespace petl::cuda

#include "tensor/allocator.h"

#include <cstdlib>
#include <new>

#include "tensor/error.h"

namespace petl {

std::size_t CachingAllocator::round_size(std::size_t bytes) {
  // 64-byte granularity for small blocks (cache lines, AVX-512 alignment); 1/8-power-of-two steps
  // above 64 KiB so free lists are reused across nearby sizes without wasting more than 12.5%.
  if (bytes == 0) return 64;
  if (bytes <= (64u << 10)) return (bytes + 63) & ~std::size_t(63);
  std::size_t step = std::size_t(1) << (63 - __builtin_clzll(bytes));
  step /= 8;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t bytes) {
  const std::size_t size = round_size(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_lists_.find(size);
    if (it != free_lists_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= int64_t(size);
      stats_.bytes_in_use += int64_t(size);
      stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
      ++stats_.cache_hits;
      return p;
    }
  }
  void* p = system_allocate(size);
  if (!p) {
    empty_cache();  // memory may be sitting in free lists of other sizes
    p = system_allocate(size);
  }
  PETL_CHECK(p, "allocator: out of memory allocating ", size, " bytes; ",
             stats().bytes_in_use >> 20, " MiB held by live petl tensors", out_of_memory_details());
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.system_allocs;
  stats_.bytes_in_use += int64_t(size);
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return p;
}

void CachingAllocator::release(void* ptr, std::size_t bytes) {
  if (!ptr) return;
  const std::size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  free_lists_[size].push_back(ptr);
  stats_.bytes_in_use -= int64_t(size);
  stats_.bytes_cached += int64_t(size);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, blocks] : free_lists_)
    for (void* p : blocks) system_free(p);
  free_lists_.clear();
  stats_.bytes_cached = 0;
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

namespace {
class CpuAllocator final : public CachingAllocator {
 protected:
  void* system_allocate(std::size_t bytes) override { return std::aligned_alloc(64, bytes); }
  void system_free(void* ptr) override { std::free(ptr); }
};
}  // namespace

CachingAllocator& cuda_allocator(int index);  // tensor/cuda/ (or the no-CUDA build's error)

CachingAllocator& allocator_for(Device device) {
  if (device.is_cuda()) return cuda_allocator(device.index);
  static CpuAllocator* cpu = new CpuAllocator();  // never destroyed: tensors may outlive statics
  return *cpu;
}

}  // namespace petl

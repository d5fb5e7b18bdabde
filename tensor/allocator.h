// Caching allocators, one per device. A freed block goes to a free list keyed by its rounded size
// and is handed out again to the next request of that size, so a training step that repeats the
// same shapes stops calling malloc (or cudaMalloc) after its first iteration.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/device.h"

namespace petl {

struct MemoryStats {
  int64_t bytes_in_use = 0;     // handed out to live tensors
  int64_t peak_bytes_in_use = 0;
  int64_t bytes_cached = 0;     // held in free lists, ready for reuse
  int64_t system_allocs = 0;    // calls that reached malloc / cudaMalloc
  int64_t cache_hits = 0;       // requests served from a free list
};

class CachingAllocator {
 public:
  virtual ~CachingAllocator() = default;
  void* allocate(std::size_t bytes);
  void release(void* ptr, std::size_t bytes);
  void empty_cache();              // give every cached block back to the system
  MemoryStats stats() const;
  void reset_peak();

  static std::size_t round_size(std::size_t bytes);

 protected:
  // Returns nullptr when the device is out of memory (allocate() then empties the cache and
  // retries once); throws for any other failure.
  virtual void* system_allocate(std::size_t bytes) = 0;
  virtual void system_free(void* ptr) = 0;
  // Appended to the out-of-memory error, e.g. the device's free and total memory.
  virtual std::string out_of_memory_details() const { return ""; }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists_;
  MemoryStats stats_;
};

// The allocator for a device (CUDA ones exist only when built with CUDA).
CachingAllocator& allocator_for(Device device);

}  // namespace petl

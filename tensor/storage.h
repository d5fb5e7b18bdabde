// A block of device memory shared by every tensor that views it. Returned to the device's caching
// allocator when the last view goes away.
//
// The version counts in-place writes (like PyTorch's `_version`): every write into existing
// memory through the public API (kernel::fill_, kernel::copy_, Tensor::set, the optimizer's update)
// bumps it, and autograd refuses to differentiate through an op whose inputs were written after
// the op used them (autograd/graph.h). Code that writes through Tensor::data<T>() into a tensor
// that may be in a graph must call Tensor::bump_version() itself.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/allocator.h"
#include "tensor/device.h"

namespace petl {

class Storage {
 public:
  Storage(std::size_t bytes, Device device)
      : data_(allocator_for(device).allocate(bytes)), bytes_(bytes), device_(device) {}
  ~Storage() { allocator_for(device_).release(data_, bytes_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  std::size_t bytes_;
  Device device_;
  std::uint64_t version_ = 0;
};

}  // namespace petl

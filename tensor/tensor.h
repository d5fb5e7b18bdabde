// Tensor: a handle (cheap to copy) to a strided view of shared storage.
//
//   element (i0, i1, ..., ik) lives at  storage + (offset + i0*strides[0] + ... + ik*strides[k])
//
// Views (reshape, transpose, slice, expand) build a new handle over the same storage; nothing is
// copied until a kernel needs contiguous memory. A tensor also carries an optional autograd slot
// (AutogradMeta, defined in autograd/) that tensor/ never looks inside.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace petl {

struct AutogradMeta;  // autograd/graph.h

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage)
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype);

  // A fresh contiguous tensor with uninitialized contents.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return int64_t(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return numel_of(shape_); }
  DType dtype() const { return dtype_; }
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  // In-place write counter of the storage (see tensor/storage.h); shared by all its views.
  uint64_t version() const { return storage_ ? storage_->version() : 0; }
  void bump_version() const {
    if (storage_) storage_->bump_version();
  }

  // Pointer to element (0, ..., 0). Checks that T matches the dtype.
  template <class T>
  T* data() const {
    PETL_CHECK(dtype_of<T>() == dtype_, "Tensor::data: tensor is ", dtype_name(dtype_),
               ", requested ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Element access by multi-index (CPU only; for tests and small tools, not hot loops).
  double item() const;                              // the single element of a 1-element tensor
  double at(const std::vector<int64_t>& index) const;
  void set(const std::vector<int64_t>& index, double value) const;
  std::vector<double> to_vector() const;            // logical (row-major) order, as double

  // Same storage, no autograd history: the value without the graph.
  Tensor detach() const { return Tensor(storage_, shape_, strides_, offset_, dtype_); }

  // ---- autograd slot (see autograd/graph.h for what these mean)
  bool requires_grad() const;
  Tensor& set_requires_grad(bool wanted);
  Tensor grad() const;            // undefined when no gradient has been accumulated
  void zero_grad() const;         // drops the accumulated gradient (no buffer is kept)
  const std::shared_ptr<AutogradMeta>& autograd() const { return autograd_; }
  void set_autograd(std::shared_ptr<AutogradMeta> meta) { autograd_ = std::move(meta); }

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::F32;
  std::shared_ptr<AutogradMeta> autograd_;
};

// ---- creation
Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::cpu());
Tensor scalar(double value, DType dtype = DType::F32, Device device = Device::cpu());  // shape []
Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::I64,
              Device device = Device::cpu());
Tensor randn(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu(),
             Generator& gen = default_generator());
Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::F32,
               Device device = Device::cpu(), Generator& gen = default_generator());
Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::F32,
                   Device device = Device::cpu());
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::cpu());
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device = Device::cpu());

}  // namespace petl

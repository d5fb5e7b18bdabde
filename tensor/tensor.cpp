// The tensor handle: construction, shape queries, raw data. Depends on nothing above tensor/.
#include "tensor/tensor.h"

namespace petl {

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      dtype_(dtype) {
  PETL_CHECK(shape_.size() == strides_.size(), "Tensor: shape ", shape_str(shape_), " and strides ",
             shape_str(strides_), " differ in rank");
  for (int64_t d : shape_) PETL_CHECK(d >= 0, "Tensor: negative dimension in shape ", shape_str(shape_));
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) PETL_CHECK(d >= 0, "empty: negative dimension in shape ", shape_str(shape));
  auto storage = std::make_shared<Storage>(byte_count(shape, dtype_size(dtype), "empty"), device);
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Device Tensor::device() const { return storage_ ? storage_->device() : Device::cpu(); }

int64_t Tensor::size(int64_t axis) const { return shape_[normalize_axis(axis, dim(), "Tensor::size")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  PETL_CHECK(defined(), "Tensor: access to an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * int64_t(dtype_size(dtype_));
}

}  // namespace petl

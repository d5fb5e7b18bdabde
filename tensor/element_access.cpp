// Element access by index and whole-tensor reads into host vectors (for tests and small tools);
// CUDA tensors are copied to the host first.
#include "tensor/kernels.h"

namespace petl {

namespace {
int64_t element_offset(const Tensor& t, const std::vector<int64_t>& index) {
  PETL_CHECK(int64_t(index.size()) == t.dim(), "Tensor::at: index of ", index.size(), " dims for a tensor of shape ",
             shape_str(t.shape()));
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    PETL_CHECK(index[i] >= 0 && index[i] < t.shape()[i], "Tensor::at: index ", index[i], " out of range for dim ",
               i, " of shape ", shape_str(t.shape()));
    off += index[i] * t.strides()[i];
  }
  return off;
}
}  // namespace

double Tensor::at(const std::vector<int64_t>& index) const {
  if (is_cuda()) return kernel::to(*this, Device::cpu()).at(index);
  const int64_t off = element_offset(*this, index);
  return dispatch_all(dtype_, "Tensor::at", [&](auto tag) {
    using T = typename decltype(tag)::type; return double(static_cast<T*>(raw_data())[off]); });
}

void Tensor::set(const std::vector<int64_t>& index, double value) const {
  PETL_CHECK(!is_cuda(), "Tensor::set: element writes are CPU-only; copy the tensor to the CPU first");
  const int64_t off = element_offset(*this, index);
  if (dtype_ == DType::I64) {
    static_cast<int64_t*>(raw_data())[off] = to_int64_element(value, "Tensor::set");
  } else {
    dispatch_float(dtype_, "Tensor::set", [&](auto tag) {
      using T = typename decltype(tag)::type; static_cast<T*>(raw_data())[off] = T(value); });
  }
  bump_version();
}

double Tensor::item() const {
  PETL_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape_str(shape_), " has ", numel(),
             " elements, expected 1");
  return at(std::vector<int64_t>(shape_.size(), 0));
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = kernel::contiguous(is_cuda() ? kernel::to(*this, Device::cpu()) : *this);
  std::vector<double> out(std::size_t(c.numel()));
  dispatch_all(dtype_, "Tensor::to_vector", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = double(p[i]);
  });
  return out;
}

}  // namespace petl

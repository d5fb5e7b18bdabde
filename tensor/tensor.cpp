#include "tensor/tensor.h"

#include <type_traits>

#include "tensor/kernels.h"

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
  return dispatch_all(dtype_, "Tensor::at", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type; return double(static_cast<scalar_t*>(raw_data())[off]); });
}

void Tensor::set(const std::vector<int64_t>& index, double value) const {
  PETL_CHECK(!is_cuda(), "Tensor::set: element writes are CPU-only; copy the tensor to the CPU first");
  const int64_t off = element_offset(*this, index);
  if (dtype_ == DType::I64) {
    static_cast<int64_t*>(raw_data())[off] = to_int64_element(value, "Tensor::set");
  } else {
    dispatch_float(dtype_, "Tensor::set", [&](auto tag_) {
      using scalar_t = typename decltype(tag_)::type; static_cast<scalar_t*>(raw_data())[off] = scalar_t(value); });
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
  dispatch_all(dtype_, "Tensor::to_vector", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const scalar_t* p = c.data<scalar_t>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = double(p[i]);
  });
  return out;
}

// ---- creation

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  kernel::fill_(t, value);
  return t;
}

Tensor arange(int64_t start, int64_t end, int64_t step, DType dtype, Device device) {
  PETL_CHECK(step != 0, "arange: step must be nonzero");
  // n = ceil((end - start) / step), in 128-bit integers: end - start alone can overflow int64.
  const __int128 span = static_cast<__int128>(end) - start;
  __int128 n = 0;
  if (step > 0 && span > 0) n = (span + step - 1) / step;
  if (step < 0 && span < 0) n = (span + step + 1) / step;
  PETL_CHECK(n <= INT64_MAX, "arange(", start, ", ", end, ", ", step, "): more than 2^63 - 1 elements");
  const int64_t count = static_cast<int64_t>(n);
  Tensor host = Tensor::empty({count}, dtype, Device::cpu());
  // Every value start + i * step lies between start and end, so it fits in int64, though i * step
  // alone may not: computed modulo 2^64 (unsigned), the result is exact.
  dispatch_all(dtype, "arange", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    scalar_t* p = host.data<scalar_t>();
    for (int64_t i = 0; i < count; ++i) {
      const auto value = static_cast<int64_t>(static_cast<uint64_t>(start) + static_cast<uint64_t>(i) * static_cast<uint64_t>(step));
      p[i] = static_cast<scalar_t>(value);
    }
  });
  return device.is_cpu() ? host : kernel::to(host, device);
}

Tensor randn(const Shape& shape, DType dtype, Device device, Generator& gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  PETL_CHECK(is_floating(dtype), "randn: dtype must be floating, got ", dtype_name(dtype));
  const uint64_t offset = gen.reserve(2 * uint64_t(t.numel()));
  backend_for(device).random_normal(t, 0.0, 1.0, gen.seed(), offset);
  return t;
}

Tensor uniform(const Shape& shape, double low, double high, DType dtype, Device device, Generator& gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  PETL_CHECK(is_floating(dtype), "uniform: dtype must be floating, got ", dtype_name(dtype));
  const uint64_t offset = gen.reserve(uint64_t(t.numel()));
  backend_for(device).random_uniform(t, low, high, gen.seed(), offset);
  return t;
}

namespace {
template <class Src>
Tensor from_host(const std::vector<Src>& values, const Shape& shape, DType dtype, Device device) {
  PETL_CHECK(int64_t(values.size()) == numel_of(shape), "from_vector: ", values.size(),
             " values cannot fill shape ", shape_str(shape), " (", numel_of(shape), " elements)");
  Tensor host = Tensor::empty(shape, dtype, Device::cpu());
  dispatch_all(dtype, "from_vector", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    scalar_t* p = host.data<scalar_t>();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<scalar_t, int64_t> && std::is_floating_point_v<Src>) {
        p[i] = to_int64_element(double(values[i]), "from_vector");
      } else {
        p[i] = scalar_t(values[i]);
      }
    }
  });
  return device.is_cpu() ? host : kernel::to(host, device);
}
}  // namespace

Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
  return from_host(values, shape, dtype, device);
}
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  return from_host(values, shape, DType::F32, device);
}
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device) {
  return from_host(values, shape, DType::I64, device);
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace petl

// Creation functions: constants, ranges, tensors filled from host vectors (tensor.h).
#include <algorithm>
#include <type_traits>

#include "tensor/kernels.h"

namespace petl {

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
  dispatch_all(dtype, "arange", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = host.data<T>();
    for (int64_t i = 0; i < count; ++i) {
      const auto value =
          static_cast<int64_t>(static_cast<uint64_t>(start) + static_cast<uint64_t>(i) * static_cast<uint64_t>(step));
      p[i] = static_cast<T>(value);
    }
  });
  return device.is_cpu() ? host : kernel::to(host, device);
}

namespace {
template <class Src>
Tensor from_host(const std::vector<Src>& values, const Shape& shape, DType dtype, Device device) {
  PETL_CHECK(int64_t(values.size()) == numel_of(shape), "from_vector: ", values.size(),
             " values cannot fill shape ", shape_str(shape), " (", numel_of(shape), " elements)");
  Tensor host = Tensor::empty(shape, dtype, Device::cpu());
  dispatch_all(dtype, "from_vector", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = host.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, int64_t> && std::is_floating_point_v<Src>) {
        p[i] = to_int64_element(double(values[i]), "from_vector");
      } else {
        p[i] = T(values[i]);
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

}  // namespace petl

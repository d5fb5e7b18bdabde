// Creation functions: constants, ranges, tensors filled from host vectors (tensor.h).
#include <algorithm>

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
  const int64_t n = std::max<int64_t>(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
  std::vector<double> values(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[std::size_t(i)] = double(start + i * step);
  return from_vector(values, {n}, dtype, device);
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
    for (std::size_t i = 0; i < values.size(); ++i) p[i] = T(values[i]);
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

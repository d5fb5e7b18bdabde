#include "nn/layers.h"

namespace petl::nn {

namespace {
Tensor normal(const Shape& shape, double std, Generator& gen) {
  Tensor t = randn(shape, DType::F32, Device::cpu(), gen);
  return t * std;
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool with_bias, double init_std, Generator& gen) {
  weight = register_parameter("weight", normal({in, out}, init_std, gen));
  if (with_bias) bias = register_parameter("bias", zeros({out}));
}

Tensor Linear::forward(const Tensor& x) const {
  Tensor y = matmul(x, weight);
  return bias.defined() ? add(y, bias) : y;
}

Embedding::Embedding(int64_t vocab, int64_t dim, double init_std, Generator& gen) {
  weight = register_parameter("weight", normal({vocab, dim}, init_std, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", ones({dim}));
  bias = register_parameter("bias", zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

}  // namespace petl::nn

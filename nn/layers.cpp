#include "nn/layers.h"

namespace petl::nn {

namespace {
Tensor normal(const Shape& shape, double std, Generator& gen) {
  Tensor t = randn(shape, DType::F32, Device::cpu(), gen);
  return t * std;
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool with_bias, double init_std, Generator& gen, WeightLayout layout_)
    : layout(layout_) {
  const Shape shape = layout == WeightLayout::InOut ? Shape{in, out} : Shape{out, in};
  weight = register_parameter("weight", normal(shape, init_std, gen));
  if (with_bias) bias = register_parameter("bias", zeros({out}));
}

Tensor Linear::math_weight() const {
  return layout == WeightLayout::InOut ? weight : transpose(weight, 0, 1);
}

Tensor Linear::forward(const Tensor& x) const {
  Tensor y = matmul(x, math_weight());
  if (bias.defined()) y = y + bias;
  return site.empty() ? y : site(x, y);
}

Tensor Linear::forward_gelu(const Tensor& x, GeluApprox approx) const {
  if (!site.empty() || !bias.defined()) return gelu(forward(x), approx);
  return bias_gelu(matmul(x, math_weight()), bias, approx);
}

void Linear::rebind_parameters() {
  weight = parameter("weight");
  if (bias.defined()) bias = parameter("bias");
}

Embedding::Embedding(int64_t vocab, int64_t dim, double init_std, Generator& gen) {
  weight = register_parameter("weight", normal({vocab, dim}, init_std, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

void Embedding::rebind_parameters() { weight = parameter("weight"); }

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", ones({dim}));
  bias = register_parameter("bias", zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

ResidualNorm LayerNorm::forward_residual(const Tensor& x, const Tensor& r) const {
  if (x.shape() != r.shape()) {  // a broadcast residual: the unfused ops
    Tensor h = x + r;
    return {h, forward(h)};
  }
  return add_layer_norm(x, r, weight, bias, eps);
}

void LayerNorm::rebind_parameters() {
  weight = parameter("weight");
  bias = parameter("bias");
}

}  // namespace petl::nn

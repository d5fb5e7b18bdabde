#include "peft/bottleneck_adapter.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

namespace {

// N(0, std^2) with values beyond +-2 std redrawn (PEFT.md §0.4 trunc_normal).
Tensor trunc_normal(const Shape& shape, double std, Generator& gen) {
  std::vector<double> values = randn(shape, DType::F64, Device::cpu(), gen).to_vector();
  for (double& v : values)
    while (std::fabs(v) > 2.0) v = randn({1}, DType::F64, Device::cpu(), gen).to_vector()[0];
  return from_vector(values, shape) * std;
}

Tensor activate(const Tensor& x, AdapterActivation f) {
  switch (f) {
    case AdapterActivation::Relu: return relu(x);
    case AdapterActivation::Swish: return x / (exp(-x) + 1.0);  // x sigmoid(x) (torch SiLU)
    case AdapterActivation::GeluTanh: return gelu(x, GeluApprox::Tanh);
  }
  throw Error("BottleneckAdapter: unknown activation");
}

void init_linear(nn::Linear& layer, AdapterInit init, bool is_up, Generator& gen) {
  const Shape shape = layer.weight.shape();
  kernel::copy_(layer.bias, zeros(layer.bias.shape()));
  switch (init) {
    case AdapterInit::Houlsby: kernel::copy_(layer.weight, trunc_normal(shape, 1e-2, gen)); break;
    case AdapterInit::Bert: kernel::copy_(layer.weight, randn(shape, DType::F32, Device::cpu(), gen) * 0.02); break;
    case AdapterInit::ZeroUp: {
      const double bound = 1.0 / std::sqrt(double(shape[1]));  // [out, in]: fan_in = in
      kernel::copy_(layer.weight, is_up ? zeros(shape) : uniform(shape, -bound, bound, DType::F32, Device::cpu(), gen));
      break;
    }
  }
}

}  // namespace

BottleneckOptions houlsby(int64_t m) {
  BottleneckOptions o;
  o.bottleneck = m;
  o.activation = AdapterActivation::GeluTanh;
  o.init = AdapterInit::Houlsby;
  return o;
}

BottleneckOptions adapterhub_double_seq_bn(int64_t m) {
  BottleneckOptions o = houlsby(m);
  o.activation = AdapterActivation::Swish;
  o.init = AdapterInit::Bert;
  o.train_layer_norms = false;
  return o;
}

BottleneckOptions pfeiffer(int64_t m) {
  BottleneckOptions o;
  o.bottleneck = m;
  o.activation = AdapterActivation::Relu;
  o.init = AdapterInit::Bert;
  o.reads_residual_sum = true;
  o.sites = {"mlp"};
  o.train_layer_norms = false;
  return o;
}

BottleneckAdapter::BottleneckAdapter(int64_t d, const BottleneckOptions& o, Generator& gen)
    : activation(o.activation), reads_residual_sum(o.reads_residual_sum) {
  PETL_CHECK(d > 0 && o.bottleneck > 0, "BottleneckAdapter: need d > 0 and bottleneck m > 0, got d=", d,
             " m=", o.bottleneck);
  down = register_module("down", std::make_shared<nn::Linear>(d, o.bottleneck, true, 0.0, gen, nn::WeightLayout::OutIn));
  up = register_module("up", std::make_shared<nn::Linear>(o.bottleneck, d, true, 0.0, gen, nn::WeightLayout::OutIn));
  init_linear(*down, o.init, false, gen);
  init_linear(*up, o.init, true, gen);
}

Tensor BottleneckAdapter::bottleneck(const Tensor& z) const {
  return up->forward(activate(down->forward(z), activation));
}

Tensor BottleneckAdapter::apply(const Tensor& x, const Tensor& h) { return apply_with_residual(x, h, Tensor()); }

Tensor BottleneckAdapter::apply_with_residual(const Tensor&, const Tensor& h, const Tensor& residual) {
  if (!reads_residual_sum) return h + bottleneck(h);
  PETL_CHECK(residual.defined(), "BottleneckAdapter: this adapter reads r + h, but the model passes no residual "
                                 "stream at this site");
  return h + bottleneck(residual + h);
}

BottleneckAdapters::BottleneckAdapters(int64_t d, BottleneckOptions options, uint64_t seed)
    : width_(d), options_(std::move(options)), gen_(seed) {}

void BottleneckAdapters::attach(nn::SiteMap& sites, const nn::Module& base) {
  PETL_CHECK(attached_.empty(), "BottleneckAdapters: already attached");
  base.set_trainable(false);
  if (options_.train_layer_norms)
    for (auto& [name, p] : base.named_parameters())
      if (is_layer_norm_parameter(name)) p.set_requires_grad(true);
  for (auto& [name, site] : select_sites(sites.sublayers, options_.sites)) {
    auto adapter = register_module(name + "_adapter", std::make_shared<BottleneckAdapter>(width_, options_, gen_));
    site->attach(adapter);
    adapters.emplace_back(name + "_adapter", adapter);
    attached_.emplace_back(site, adapter.get());
  }
  PETL_CHECK(!attached_.empty(), "BottleneckAdapters: no sublayer site matches [", join_patterns(options_.sites), "]");
}

void BottleneckAdapters::detach() {
  for (auto& [site, adapter] : attached_) site->detach(adapter);
  attached_.clear();
}

bool is_layer_norm_parameter(const std::string& name) {
  for (const char* part : {".ln_1.", ".ln_2.", "ln_f.", "layer_norm.", "layernorm_embedding."})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace petl::peft

#include "peft/parallel_adapter.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

ParallelOptions parallel_adapter(int64_t r) {
  ParallelOptions o;
  o.bottleneck = r;
  o.scaling = 1.0;
  o.init = ParallelInit::Bert;
  return o;
}

ParallelOptions scaled_parallel_adapter(int64_t r, double s) {
  ParallelOptions o;
  o.bottleneck = r;
  o.scaling = s;
  o.init = ParallelInit::Lora;
  return o;
}

ParallelOptions adapterhub_par_bn(int64_t r, bool learned) {
  ParallelOptions o = scaled_parallel_adapter(r, 4.0);
  o.input = ParallelInput::Residual;
  o.learned_scaling = learned;
  return o;
}

ParallelAdapter::ParallelAdapter(int64_t d, const ParallelOptions& o, Generator& gen)
    : fixed_scaling(o.scaling), input(o.input) {
  PETL_CHECK(d > 0 && o.bottleneck > 0, "ParallelAdapter: need d > 0 and bottleneck r > 0, got d=", d,
             " r=", o.bottleneck);
  down = register_module("down", std::make_shared<nn::Linear>(d, o.bottleneck, true, 0.02, gen, nn::WeightLayout::OutIn));
  up = register_module("up", std::make_shared<nn::Linear>(o.bottleneck, d, true, 0.02, gen, nn::WeightLayout::OutIn));
  if (o.init == ParallelInit::Lora) {  // kaiming_uniform(a = sqrt 5) = U(±1/sqrt(fan_in)) on W_down, zeros elsewhere
    const double bound = 1.0 / std::sqrt(double(d));
    kernel::copy_(down->weight, uniform(down->weight.shape(), -bound, bound, DType::F32, Device::cpu(), gen));
    kernel::copy_(up->weight, zeros(up->weight.shape()));
  }
  if (o.learned_scaling) scaling = register_parameter("scaling", ones({1}));
}

Tensor ParallelAdapter::apply(const Tensor& x, const Tensor& h) { return apply_with_residual(x, h, Tensor()); }

Tensor ParallelAdapter::apply_with_residual(const Tensor& x, const Tensor& h, const Tensor& residual) {
  const Tensor& z = input == ParallelInput::SublayerIn ? x : residual;
  PETL_CHECK(z.defined(), "ParallelAdapter: this adapter reads the residual stream, but the model passes none at "
                          "this site");
  const Tensor delta = up->forward(relu(down->forward(z)));  // f(z W_down + b_down) W_up + b_up
  return h + (scaling.defined() ? delta * scaling : delta * fixed_scaling);
}

ParallelAdapters::ParallelAdapters(int64_t d, ParallelOptions options, uint64_t seed)
    : width_(d), options_(std::move(options)), gen_(seed) {}

void ParallelAdapters::attach(nn::SiteMap& sites, const nn::Module& base) {
  PETL_CHECK(attached_.empty(), "ParallelAdapters: already attached");
  base.set_trainable(false);
  for (auto& [name, site] : select_sites(sites.sublayers, options_.sites)) {
    auto adapter = register_module(name + "_adapter", std::make_shared<ParallelAdapter>(width_, options_, gen_));
    site->attach(adapter);
    adapters.emplace_back(name + "_adapter", adapter);
    attached_.emplace_back(site, adapter.get());
  }
  PETL_CHECK(!attached_.empty(), "ParallelAdapters: no sublayer site matches [", join_patterns(options_.sites), "]");
}

void ParallelAdapters::detach() {
  for (auto& [site, adapter] : attached_) site->detach(adapter);
  attached_.clear();
}

}  // namespace petl::peft

#include "peft/ia3.h"

#include "autograd/ops.h"
#include "tensor/error.h"

namespace petl::peft {

Ia3Linear::Ia3Linear(const LinearTarget& t, bool ff, std::vector<bool> blocks)
    : target(t), feedforward(ff), output_blocks(std::move(blocks)) {
  if (ff) output_blocks = {true};  // blocks split the output; input scaling has none
  const int64_t n = int64_t(output_blocks.size());
  int64_t on = 0;
  for (bool b : output_blocks) on += b;
  PETL_CHECK(on > 0 && t.out % n == 0, "(IA)^3 on '", t.name, "': ", t.out, " output features do not split into ", n,
             " blocks with at least one enabled");
  const Shape shape = ff ? Shape{1, t.in} : Shape{on * (t.out / n), 1};
  ia3_l = register_parameter("ia3_l", ones(shape, DType::F32, t.weight.device()));
}

Tensor Ia3Linear::output_scale() const {
  if (output_blocks.size() == 1) return reshape(ia3_l, {target.out});
  const int64_t w = target.out / int64_t(output_blocks.size());
  std::vector<Tensor> parts;
  int64_t k = 0;
  for (bool on : output_blocks) {
    parts.push_back(on ? reshape(slice(ia3_l, 0, k * w, (k + 1) * w), {w}) : ones({w}, ia3_l.dtype(), ia3_l.device()));
    k += on;
  }
  return concat(parts, 0);
}

Tensor Ia3Linear::apply(const Tensor& x, const Tensor& y) {
  if (merged_) return y;
  if (!feedforward) return y * output_scale();  // l ⊙ (x W + b)
  // (l ⊙ x) W + b = (x W + b) + ((l - 1) ⊙ x) W: the site hands over y = x W + b already computed
  return y + matmul(x * (reshape(ia3_l, {target.in}) - 1.0), target.math_weight());
}

void Ia3Linear::rescale(bool divide) {
  NoGradGuard no_grad;
  const Tensor full = feedforward ? reshape(ia3_l, {target.in}) : output_scale();
  const Tensor l = divide ? ones(full.shape(), full.dtype(), full.device()) / full : full;
  // math layout [in, out]: output scaling multiplies columns, input scaling rows
  const Tensor scale_math = feedforward ? reshape(l, {target.in, 1}) : reshape(l, {1, target.out});
  const Tensor scale = target.layout == nn::WeightLayout::InOut ? scale_math : transpose(scale_math, 0, 1);
  assign(target.weight, target.weight * scale);
  if (!feedforward && target.bias.defined()) assign(target.bias, target.bias * reshape(l, {target.out}));
}

void Ia3Linear::merge() {
  PETL_CHECK(!merged_, "(IA)^3 on '", target.name, "' is already merged");
  rescale(false);
  merged_ = true;
}

void Ia3Linear::unmerge() {
  PETL_CHECK(merged_, "(IA)^3 on '", target.name, "' is not merged");
  rescale(true);
  merged_ = false;
}

Ia3::Ia3(nn::Module& model, const nn::SiteMap& sites, std::vector<std::string> target_modules,
         std::vector<std::string> feedforward_modules, std::vector<bool> output_blocks)
    : target_modules_(std::move(target_modules)),
      feedforward_modules_(std::move(feedforward_modules)),
      output_blocks_(std::move(output_blocks)) {
  const std::vector<LinearTarget> targets = linear_targets(model, sites, target_modules_);
  for (const auto& f : feedforward_modules_) {  // peft: feedforward_modules must be a subset of the targets
    bool found = false;
    for (const auto& t : targets) found = found || name_matches(t.name, f);
    PETL_CHECK(found, "(IA)^3: feedforward module '", f, "' matches none of the target modules");
  }
  model.set_trainable(false);
  for (const LinearTarget& t : targets) {
    auto layer = std::make_shared<Ia3Linear>(t, name_matches_any(t.name, feedforward_modules_), output_blocks_);
    register_module(t.name, layer);
    t.site->attach(layer);
    layers_.push_back(layer);
  }
}

void Ia3::merge() {
  for (auto& l : layers_) l->merge();
}

void Ia3::unmerge() {
  for (auto& l : layers_) l->unmerge();
}

void Ia3::detach() {
  for (auto& l : layers_) {
    if (l->merged()) l->unmerge();
    l->target.site->detach(l.get());
  }
}

}  // namespace petl::peft

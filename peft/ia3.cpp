#include "peft/ia3.h"

#include "autograd/ops.h"
#include "tensor/error.h"

namespace petl::peft {

Ia3Linear::Ia3Linear(const LinearTarget& t, bool ff) : target(t), feedforward(ff) {
  const Shape shape = ff ? Shape{1, t.in} : Shape{t.out, 1};
  ia3_l = register_parameter("ia3_l", ones(shape, DType::F32, t.weight.device()));
}

Tensor Ia3Linear::apply(const Tensor& x, const Tensor& y) {
  if (merged_) return y;
  if (!feedforward) return y * reshape(ia3_l, {target.out});  // l ⊙ (x W + b)
  // (l ⊙ x) W + b = (x W + b) + ((l - 1) ⊙ x) W: the site hands over y = x W + b already computed
  return y + matmul(x * (reshape(ia3_l, {target.in}) - 1.0), target.math_weight());
}

void Ia3Linear::rescale(bool divide) {
  NoGradGuard no_grad;
  const Tensor l = divide ? ones(ia3_l.shape(), DType::F32, ia3_l.device()) / ia3_l : ia3_l;
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
         std::vector<std::string> feedforward_modules)
    : target_modules_(std::move(target_modules)), feedforward_modules_(std::move(feedforward_modules)) {
  const std::vector<LinearTarget> targets = linear_targets(model, sites, target_modules_);
  for (const auto& f : feedforward_modules_) {  // peft: feedforward_modules must be a subset of the targets
    bool found = false;
    for (const auto& t : targets) found = found || name_matches(t.name, f);
    PETL_CHECK(found, "(IA)^3: feedforward module '", f, "' matches none of the target modules");
  }
  model.set_trainable(false);
  for (const LinearTarget& t : targets) {
    auto layer = std::make_shared<Ia3Linear>(t, name_matches_any(t.name, feedforward_modules_));
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

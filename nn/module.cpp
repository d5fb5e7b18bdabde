#include "nn/module.h"

#include "tensor/kernels.h"

namespace petl::nn {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  for (const auto& [existing, t] : parameters_)
    PETL_CHECK(existing != name, "Module: parameter '", name, "' registered twice");
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out = parameters_;
  for (const auto& [prefix, child] : children_)
    for (auto& [name, t] : child->named_parameters()) out.emplace_back(prefix + "." + name, t);
  return out;
}

std::vector<Tensor> Module::trainable_parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters())
    if (t.requires_grad()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count(bool trainable_only) const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

void Module::zero_grad() const {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

void Module::set_trainable(bool trainable) const {
  for (auto& [name, t] : named_parameters()) {
    Tensor handle = t;
    handle.set_requires_grad(trainable);
  }
}

const Tensor& Module::parameter(const std::string& name) const {
  for (const auto& [existing, t] : parameters_)
    if (existing == name) return t;
  throw Error("Module: no parameter '" + name + "'");
}

void Module::to(Device device) {
  for (auto& [name, t] : parameters_) {
    if (t.device() == device) continue;
    Tensor moved = kernel::to(t.detach(), device);
    moved.set_requires_grad(t.requires_grad());
    t = moved;
  }
  rebind_parameters();
  for (auto& [name, child] : children_) child->to(device);
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

}  // namespace petl::nn

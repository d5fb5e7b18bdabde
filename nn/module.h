// Module: a named tree of parameters, with names in the Hugging Face style ("h.0.attn.c_attn.weight")
// so checkpoints map one-to-one onto real model files.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace petl::nn {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, depth first, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  // Only the parameters that train (requires_grad).
  std::vector<Tensor> trainable_parameters() const;
  int64_t parameter_count(bool trainable_only = false) const;
  void zero_grad() const;
  // Freezes (or unfreezes) every parameter below this module.
  void set_trainable(bool trainable) const;

  // Moves every parameter (values, requires_grad) to `device`; gradients are dropped. The layers'
  // members then refer to the moved tensors (rebind_parameters), so the same model code runs there.
  void to(Device device);

  // Training mode turns dropout on; eval mode off.
  void train(bool on = true);
  bool training() const { return training_; }
  // The registered children, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registers a parameter (a leaf that requires a gradient) under `name`; returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  // This module's own parameter `name` (as registered).
  const Tensor& parameter(const std::string& name) const;
  // A module that keeps its parameters in members too re-reads them here after to(device).
  virtual void rebind_parameters() {}
  // Registers a child module; its parameter names get the prefix "name.".
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    children_.emplace_back(name, child);
    return child;
  }

 private:
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace petl::nn

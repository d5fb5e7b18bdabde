// The oracle's reference results (tools/oracle/model_fixtures.py) and the comparisons the parity
// tests make against them.
#pragma once
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "nn/adamw.h"
#include "nn/module.h"
#include "nn/safetensors.h"
#include "support/tensor_helpers.h"

namespace petl::testing {

struct HfReference {
  nn::TensorMap tensors;  // inputs, "logits", "grad.<parameter>"
  nlohmann::json json;    // "loss", "adamw", "adamw_losses"
};

inline HfReference load_reference(const std::string& dir) {
  HfReference r;
  r.tensors = nn::load_safetensors(dir + "/reference.safetensors");
  std::ifstream in(dir + "/reference.json");
  REQUIRE(in.good());
  r.json = nlohmann::json::parse(in);
  return r;
}

// max |a - b| / max |b|: the error relative to the reference's scale.
inline double relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  double scale = 0.0;
  for (double v : y) scale = std::max(scale, std::fabs(v));
  return max_abs_diff(x, y) / std::max(scale, 1e-30);
}

inline double max_abs(const Tensor& t) {
  double m = 0.0;
  for (double v : t.to_vector()) m = std::max(m, std::fabs(v));
  return m;
}

// Every trainable parameter's gradient against "grad.<name>"; returns the worst relative error.
// A parameter whose name ends with one of `exactly_zero` has a gradient that is 0 in exact
// arithmetic (BART's k_proj.bias: adding b to every key adds q.b to every score of a query, which
// softmax ignores), so both sides are rounding noise (~1e-12): they are checked to be below 1e-9
// instead of being compared with each other.
inline double check_gradients_against(const nn::Module& model, const HfReference& ref, double tolerance,
                                      const std::vector<std::string>& exactly_zero = {}) {
  double worst = 0.0;
  int64_t checked = 0;
  for (const auto& [param_name, p] : model.named_parameters()) {
    const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
    if (!p.requires_grad()) continue;
    INFO("gradient of " << name);
    auto it = ref.tensors.find("grad." + name);
    REQUIRE(it != ref.tensors.end());
    REQUIRE(p.grad().defined());
    REQUIRE(p.grad().shape() == it->second.shape());
    if (std::any_of(exactly_zero.begin(), exactly_zero.end(), [&](const std::string& s) { return name.ends_with(s); })) {
      CHECK(max_abs(p.grad()) <= 1e-9);
      CHECK(max_abs(it->second) <= 1e-9);
      continue;
    }
    const double err = relative_error(p.grad(), it->second);
    CHECK(err <= tolerance);
    worst = std::max(worst, err);
    ++checked;
  }
  CHECK(checked > 0);
  MESSAGE("gradients: " << checked << " tensors, worst max|g - g_hf| / max|g_hf| = " << worst);
  return worst;
}

inline nn::AdamWOptions adamw_options(const nlohmann::json& j) {
  nn::AdamWOptions o;
  o.lr = j.at("lr");
  o.beta1 = j.at("betas").at(0);
  o.beta2 = j.at("betas").at(1);
  o.eps = j.at("eps");
  o.weight_decay = j.at("weight_decay");
  return o;
}

}  // namespace petl::testing

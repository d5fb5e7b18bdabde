#include "peft/attach.h"

#include <map>

#include "autograd/graph.h"
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

namespace {
// Glob match with '*' = any run of characters (iterative, backtracking to the last '*').
bool glob(const std::string& s, const std::string& p) {
  size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (j < p.size() && p[j] != '*' && p[j] == s[i]) {
      ++i, ++j;
    } else if (j < p.size() && p[j] == '*') {
      star = j++, mark = i;
    } else if (star != std::string::npos) {
      j = star + 1, i = ++mark;
    } else {
      return false;
    }
  }
  while (j < p.size() && p[j] == '*') ++j;
  return j == p.size();
}
}  // namespace

bool name_matches(const std::string& name, const std::string& pattern) {
  if (pattern.find('*') != std::string::npos) return glob(name, pattern);
  return name == pattern || name.ends_with("." + pattern);
}

bool name_matches_any(const std::string& name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    if (name_matches(name, p)) return true;
  return false;
}

std::string join_patterns(const std::vector<std::string>& patterns) {
  std::string list;
  for (const auto& p : patterns) list += (list.empty() ? "" : ", ") + p;
  return list;
}

Tensor LinearTarget::math_weight() const {
  return layout == nn::WeightLayout::InOut ? weight : transpose(weight, 0, 1);
}

nn::WeightLayout weight_layout_of(const nn::Module& model) {
  if (dynamic_cast<const nn::Gpt2LMHead*>(&model)) return nn::WeightLayout::InOut;
  if (dynamic_cast<const nn::BartForConditionalGeneration*>(&model)) return nn::WeightLayout::OutIn;
  throw Error("peft: cannot tell the weight layout of this model (expected Gpt2LMHead or BartForConditionalGeneration)");
}

std::vector<LinearTarget> linear_targets(const nn::Module& model, const nn::SiteMap& sites,
                                         const std::vector<std::string>& patterns) {
  std::map<std::string, Tensor> params;
  for (auto& [name, p] : model.named_parameters()) params.emplace(name, p);
  const nn::WeightLayout layout = weight_layout_of(model);
  std::vector<LinearTarget> out;
  for (auto& [name, site] : select_sites(sites.linears, patterns)) {
    LinearTarget t;
    t.name = name;
    t.site = site;
    auto w = params.find(name + ".weight");
    PETL_CHECK(w != params.end(), "peft: linear site '", name, "' has no parameter '", name, ".weight'");
    t.weight = w->second;
    if (auto b = params.find(name + ".bias"); b != params.end()) t.bias = b->second;
    t.layout = layout;
    t.in = t.math_weight().size(0);
    t.out = t.math_weight().size(1);
    out.push_back(std::move(t));
  }
  if (out.empty()) throw Error("peft: no linear site matches the target modules [" + join_patterns(patterns) + "]");
  return out;
}

void assign(const Tensor& target, const Tensor& value) {
  PETL_CHECK(target.shape() == value.shape(), "peft: assigning a ", shape_str(value.shape()), " tensor to a ", shape_str(target.shape()),
             " one");
  NoGradGuard no_grad;
  kernel::copy_(target, value);
}

}  // namespace petl::peft

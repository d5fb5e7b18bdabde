// Attaching a method from outside: choosing sites by name and finding the frozen Linear behind a
// linear site. Names are the Hugging Face module paths of nn::SiteMap ("transformer.h.0.attn.c_attn").
//
// A pattern selects a site name the way `peft`'s target_modules list does (tuners_utils.py
// `check_target_module_exists`): a pattern without '*' matches a name equal to it or ending in
// "." + pattern ("c_attn", "attn.c_proj", "q_proj"); a pattern with '*' is a glob over the whole
// name where '*' matches any run of characters, dots included ("transformer.h.*.mlp.c_fc").
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"

namespace petl::peft {

bool name_matches(const std::string& name, const std::string& pattern);
bool name_matches_any(const std::string& name, const std::vector<std::string>& patterns);
// "a, b, c": patterns (or any names) for an error message.
std::string join_patterns(const std::vector<std::string>& patterns);

// The sites whose name matches one of `patterns`, in model order. Every method selects its sites
// this one way (LoRA and (IA)^3 their linear sites, the adapters their sublayer sites).
template <class SiteT>
std::vector<std::pair<std::string, SiteT*>> select_sites(const std::vector<std::pair<std::string, SiteT*>>& sites,
                                                         const std::vector<std::string>& patterns) {
  std::vector<std::pair<std::string, SiteT*>> out;
  for (const auto& entry : sites)
    if (name_matches_any(entry.first, patterns)) out.push_back(entry);
  return out;
}

// A linear map y = x W + b of the base model that a method reads or rewrites (LoRA and (IA)^3 merge
// into W). `weight` and `bias` share storage with the model's parameters.
struct LinearTarget {
  std::string name;
  nn::LinearSite* site = nullptr;
  Tensor weight, bias;  // bias undefined when the Linear has none
  nn::WeightLayout layout = nn::WeightLayout::InOut;
  int64_t in = 0, out = 0;
  // W in math layout [in, out] (a transposed view for OutIn storage).
  Tensor math_weight() const;
};

// The storage layout a model's Linears use: GPT-2 (Conv1D) InOut, BART (nn.Linear) OutIn.
nn::WeightLayout weight_layout_of(const nn::Module& model);

// Every linear site of `model` matching `patterns`, with its weight and bias looked up by name
// ("<site>.weight", "<site>.bias"). No match is an error naming the patterns.
std::vector<LinearTarget> linear_targets(const nn::Module& model, const nn::SiteMap& sites,
                                         const std::vector<std::string>& patterns);

// Writes `value` into `target`'s storage without recording a graph (merging into a frozen weight).
void assign(const Tensor& target, const Tensor& value);

}  // namespace petl::peft

// GPT-2's PEFT sites by name for a given depth, without building a model: what a method attaches
// there (and so its parameter count at GPT-2 small / medium shape) depends only on the names.
#pragma once
#include <deque>
#include <memory>
#include <string>

#include "nn/sites.h"

namespace petl::testing {

struct Gpt2SiteNames {
  std::deque<nn::SublayerSite> sublayers;
  std::deque<nn::KeyValueSite> key_values;
  nn::SiteMap map;
};

// The same names, in the same order, as Gpt2LMHead::sites() (sublayers and key/values).
inline std::unique_ptr<Gpt2SiteNames> gpt2_site_names(int64_t layers) {
  auto s = std::make_unique<Gpt2SiteNames>();
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "transformer.h." + std::to_string(i);
    for (const char* sub : {".attn", ".attn.heads", ".mlp"})
      s->map.sublayers.emplace_back(p + sub, &s->sublayers.emplace_back());
    s->map.key_values.emplace_back(p + ".attn", &s->key_values.emplace_back());
  }
  return s;
}

}  // namespace petl::testing

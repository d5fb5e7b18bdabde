#include "peft/mam.h"

namespace petl::peft {

Mam::Mam(int64_t layers, int64_t heads, int64_t d, const MamOptions& options, uint64_t seed) {
  Generator gen(seed);
  prefix = register_module("prefix", std::make_shared<PrefixTuning>(layers, heads, d, options.prefix, gen));
  adapters = register_module("adapters", std::make_shared<ParallelAdapters>(d, options.adapter, seed + 1));
}

void Mam::attach(nn::SiteMap& sites, const nn::Module& base) {
  prefix->attach(sites, base);
  adapters->attach(sites, base);
}

void Mam::detach() {
  prefix->detach();
  adapters->detach();
}

}  // namespace petl::peft

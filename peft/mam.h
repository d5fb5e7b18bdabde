// MAM adapter (Mix-And-Match, He et al. 2022 §4.6; shared/PEFT.md §9): prefix tuning (§3, MLP
// reparameterization, l = 30, k = 800) on every attention plus a scaled parallel adapter (§8,
// r = 512, s = 4, lora init, ReLU) on every FFN, the base frozen:
//
//   head_j = softmax(q_j [P_k^(j); K_j]^T / sqrt(d_h)) [P_v^(j); V_j]          (attention)
//   F     <- F + s · (relu(z W_down + b_down) W_up + b_up)                    (FFN)
//
// Unified View (PEFT.md §13): the prefix row (gated addition at the attention) plus the scaled
// parallel adapter row (scaled addition at the FFN). Parameters are "prefix.*" and "adapters.*".
#pragma once
#include <memory>

#include "peft/parallel_adapter.h"
#include "peft/prefix_tuning.h"

namespace petl::peft {

struct MamOptions {
  PrefixTuningOptions prefix{30, true, 800};
  ParallelOptions adapter = scaled_parallel_adapter(512, 4.0);
};

class Mam : public nn::Module {
 public:
  Mam(int64_t layers, int64_t heads, int64_t d, const MamOptions& options, uint64_t seed);
  // Freezes `base`, attaches the prefix to every attention and the adapters to the selected FFNs.
  void attach(nn::SiteMap& sites, const nn::Module& base);
  void detach();
  std::shared_ptr<PrefixTuning> prefix;
  std::shared_ptr<ParallelAdapters> adapters;
};

}  // namespace petl::peft

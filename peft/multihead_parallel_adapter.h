// Multi-head parallel adapter (MH PA, He et al. 2022 §3.3; shared/PEFT.md §7): a parallel adapter on
// every head's output, composed by plain addition, as [UV] implements it (attn_mode "prefix",
// attn_option "cross_attn_relu", attn_composition "add"). At an attention with query input x_s:
//
//   q~    = LN_ef(x_s) W_q + b_q                 frozen q projection, no 1/sqrt(d_h)      [B, T, d]
//   Δ_j   = dropout(ReLU(q~_j P_k^(j)T)) P_v^(j)  P_k^(j), P_v^(j) in R^{r x d_h}           [B, T, d_h]
//   head_j <- head_j + Δ_j                        before W_o (the model's "heads" site)
//
// i.e. W_down^(j) = W_q^(j) P_k^(j)T (d x r, through the frozen W_q) and W_up^(j) = P_v^(j) (r x d_h).
// P_k, P_v are prefix rows: one table R [r, 2Ld] in prefix tuning's layout (peft/prefix_tuning.h),
// reparameterized by the MLP R = tanh(E W1 + b1) W2 + b2 at train time (PEFT.md §3.2) and folded
// into R afterwards. LN_ef is a new LayerNorm per attention (γ = 1, β = 0). Init: the prefix's
// (E ~ N(0, 1), torch-default Linears); Δ is not zero at init -- [UV] has no identity init here.
//
// Unified View (PEFT.md §13.4): functional form relu_attention(r), insertion parallel (reads x_s),
// modified representation the heads (head-wise), composition add.
// Saved per attention: 2·r·d (R's rows) + 2·d (LN_ef); train-time adds the prefix MLP.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"
#include "peft/attach.h"
#include "peft/prefix_tuning.h"

namespace petl::peft {

struct MultiheadParallelOptions {
  int64_t rows = 30;        // r = l, He et al. Table 4 (0.1%)
  bool projection = true;   // the prefix MLP of PEFT.md §3.2
  int64_t hidden = 800;     // k, [UV] mid_dim
  double dropout = 0.0;     // on the ReLU weights ([UV] uses the model's attention dropout)
  std::vector<std::string> sites = {"heads"};  // the merged-heads sites, attach.h patterns
};

class MultiheadParallelAdapters;

// One attention's adapter, attached to its heads site; `owner` (null for a free-standing adapter
// that only computes delta) supplies the rows of attention `layer`.
class MultiheadParallelAdapter : public nn::Module, public nn::SublayerHook {
 public:
  MultiheadParallelAdapter(const LinearTarget& query, int64_t heads, double dropout,
                           MultiheadParallelAdapters* owner = nullptr, int64_t layer = 0);
  Tensor apply(const Tensor& x, const Tensor& h) override;
  // Δ = merge_j dropout(ReLU(q~_j P_k^(j)T)) P_v^(j) for the rows k, v [1, N_h, r, d_h].
  Tensor delta(const Tensor& x, const Tensor& k, const Tensor& v);

  std::shared_ptr<nn::LayerNorm> layer_norm;  // LN_ef
  Tensor query_weight, query_bias;            // the frozen W_q [d, d] (math layout), b_q [d]
  const int64_t heads;
  const double dropout_p;
  Generator dropout_generator{0};

 private:
  MultiheadParallelAdapters* owner_;
  int64_t layer_;
};

// Every MH PA of a model: "prefix" (the P_k, P_v network over all selected attentions, in model
// order) and "<attention>_mh_adapter.layer_norm.{weight,bias}". attach() freezes the base.
class MultiheadParallelAdapters : public nn::Module {
 public:
  MultiheadParallelAdapters(nn::Module& model, nn::SiteMap& sites, int64_t heads,
                            MultiheadParallelOptions options, uint64_t seed);
  void detach();
  // R for the current forward: evaluated by the first attention, reused by the rest.
  Tensor table_for(int64_t layer);

  std::shared_ptr<PrefixTuning> prefix;
  std::vector<std::pair<std::string, std::shared_ptr<MultiheadParallelAdapter>>> adapters;
  const MultiheadParallelOptions options;
  const int64_t heads;

 private:
  Generator gen_;
  Tensor current_table_;
  std::vector<std::pair<nn::SublayerSite*, MultiheadParallelAdapter*>> attached_;
};

}  // namespace petl::peft

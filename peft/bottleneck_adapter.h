// Sequential bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021; shared/PEFT.md §2).
// One adapter at a sublayer with output h (after its output projection and dropout, before the
// residual add) computes
//
//   g(z)       = f(z W_down + b_down) W_up + b_up          W_down: d x m, W_up: m x d
//   Adapter(h) = h + g(z),    z = h                         (Houlsby; AdapterHub DoubleSeqBn)
//                             z = r + h                     (AdapterHub SeqBn "Pfeiffer" on GPT-2:
//                                                            original_ln_before with no LN passed)
//                             z = LN(r + h)                 (SeqBn on BART, post-LN: AdapterHub passes the
//                                                            layer's own frozen LN, e.g. final_layer_norm)
//
// On BART the model then computes LN(r + Adapter(h)) with the same LN (original_ln_after); r is the
// sublayer input there (PEFT.md §2.7: z = LN_fin(F + a), y = LN_fin(g(z) + F + a)).
//
// and the model then adds the residual stream r as usual. This is AdapterHub's pre_forward /
// forward / post_forward (methods/modeling.py) on GPT-2 with residual_before_ln = True and
// original_ln_after = True: the adapter's skip is h, the block's residual r is added after it.
// Placement: Houlsby after the attention and the FFN of every block ("attn" and "mlp" sites),
// Pfeiffer after the FFN only.
//
// Unified View (PEFT.md §13): Δh = f(h W_down) W_up, functional form ReLU/GELU/swish, insertion
// sequential (reads h), composition h <- h + Δh.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"
#include "peft/attach.h"

namespace petl::peft {

enum class AdapterActivation { Relu, Swish, GeluTanh };

enum class AdapterInit {
  Houlsby,  // paper §3.6: W ~ trunc_normal(1e-2) (cut at 2 std), b = 0: near identity
  Bert,     // AdapterHub's default "bert": W ~ N(0, 0.02^2), b = 0
  ZeroUp,   // W_down torch default U(-1/sqrt(d), 1/sqrt(d)), W_up = b = 0: exactly the identity
};

struct BottleneckOptions {
  int64_t bottleneck = 64;                              // m
  AdapterActivation activation = AdapterActivation::Relu;
  AdapterInit init = AdapterInit::Houlsby;
  bool reads_residual_sum = false;                      // z = r + h (Pfeiffer; LN(r + h) on BART) instead of h
  std::vector<std::string> sites = {"attn", "mlp"};      // which sublayer sites get one (attach.h patterns)
  bool train_layer_norms = true;                        // Houlsby trains every LayerNorm (PEFT.md §2.3)
};

// Houlsby: adapters after attention and FFN, GELU, trunc_normal(1e-2), LayerNorms trained (paper).
BottleneckOptions houlsby(int64_t bottleneck);
// AdapterHub's DoubleSeqBnConfig: as Houlsby but swish, "bert" init, original LayerNorms frozen.
BottleneckOptions adapterhub_double_seq_bn(int64_t bottleneck);
// AdapterHub's SeqBnConfig ("Pfeiffer"): one adapter after the FFN reading r + h, ReLU, "bert" init.
// On BART it sits after every encoder and decoder FFN and reads z = LN_fin(r + h).
BottleneckOptions pfeiffer(int64_t bottleneck);

// One adapter: h' = h + g(z).
class BottleneckAdapter : public nn::Module, public nn::SublayerHook {
 public:
  BottleneckAdapter(int64_t d, const BottleneckOptions& options, Generator& gen);
  Tensor apply(const Tensor& x, const Tensor& h) override;
  Tensor apply_with_residual(const Tensor& x, const Tensor& h, const Tensor& residual) override;
  // g(z) = f(z W_down + b_down) W_up + b_up
  Tensor bottleneck(const Tensor& z) const;

  std::shared_ptr<nn::Linear> down, up;  // torch layout [out, in], as AdapterHub stores them
  AdapterActivation activation;
  bool reads_residual_sum;
  // The post-LN layer's frozen LayerNorm after this sublayer (BART), set by BottleneckAdapters::attach
  // when reads_residual_sum: then z = LN(r + h). Undefined on GPT-2 (pre-LN: nothing follows h).
  Tensor original_ln_weight, original_ln_bias;
};

// Every adapter of a model, named "<site>_adapter" (e.g. "transformer.h.0.attn_adapter.down.weight").
class BottleneckAdapters : public nn::Module {
 public:
  BottleneckAdapters(int64_t d, BottleneckOptions options, uint64_t seed);
  // Freezes `base` (then unfreezes its LayerNorms if options.train_layer_norms) and attaches an
  // adapter to every sublayer site matching options.sites (peft/attach.h select_sites).
  void attach(nn::SiteMap& sites, const nn::Module& base);
  void detach();
  const BottleneckOptions& options() const { return options_; }
  int64_t width() const { return width_; }
  std::vector<std::pair<std::string, std::shared_ptr<BottleneckAdapter>>> adapters;

 private:
  int64_t width_;
  BottleneckOptions options_;
  Generator gen_;
  std::vector<std::pair<nn::SublayerSite*, BottleneckAdapter*>> attached_;
};

// AdapterHub/PEFT.md: base parameters that are LayerNorm weights or biases (GPT-2 ln_1, ln_2, ln_f;
// BART *layer_norm*, layernorm_embedding).
bool is_layer_norm_parameter(const std::string& name);

}  // namespace petl::peft

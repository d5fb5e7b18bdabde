// Parallel and scaled parallel adapters (He et al. 2022; shared/PEFT.md §6, §8). At a sublayer
// with input x_s, output h and residual stream r:
//
//   h <- h + s · (f(z W_down + b_down) W_up + b_up)      f = ReLU, W_down: d x r, W_up: r x d
//
// with z = x_s (the Unified View's definition, PEFT.md §6.2 `sublayer_in`, default) or z = r
// (AdapterHub's ParBn: ParallelAdapter.pre_forward hands the adapter the residual stream; in BART
// both coincide). s multiplies the output including b_up ([UV] Adapter_Layer, [AH] up * scaling):
// s = 1 is the plain parallel adapter, s = 4 He et al.'s scaled PA ([AH] ParBnConfig default),
// `learned_scaling` a trainable scalar initialized to 1 ([AH] scaling="learned", [UV]
// "learnable_scalar").
//
// Unified View (PEFT.md §13): Δh = s · ReLU(x W_down) W_up, insertion parallel (reads x_s),
// composition scaled addition.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"
#include "peft/attach.h"

namespace petl::peft {

enum class ParallelInput { SublayerIn, Residual };

enum class ParallelInit {
  Lora,  // [UV] "lora" / [AH] "mam_adapter": W_down torch default U(±1/sqrt(d)), b_down = W_up = b_up = 0
  Bert,  // [UV] "bert": W ~ N(0, 0.02²), biases 0
};

struct ParallelOptions {
  int64_t bottleneck = 512;                   // r
  double scaling = 4.0;                       // s (ignored when learned_scaling)
  bool learned_scaling = false;               // s a trainable scalar, init 1
  ParallelInput input = ParallelInput::SublayerIn;
  ParallelInit init = ParallelInit::Lora;
  // The sublayer sites that get an adapter, as peft/attach.h patterns: FFN by default (He et al.'s
  // best placement); {"attn", "mlp"} adds GPT-2's attention, {"heads"} the merged heads before W_o.
  std::vector<std::string> sites = {"mlp"};
};

// He et al.'s plain PA (s = 1, bert init) and scaled PA (s = 4, lora init), on the FFN.
ParallelOptions parallel_adapter(int64_t bottleneck);
ParallelOptions scaled_parallel_adapter(int64_t bottleneck, double scaling = 4.0);
// AdapterHub's ParBnConfig (s = 4, residual input) and "scaled_par_bn" (learned s).
ParallelOptions adapterhub_par_bn(int64_t bottleneck, bool learned_scaling = false);

class ParallelAdapter : public nn::Module, public nn::SublayerHook {
 public:
  ParallelAdapter(int64_t d, const ParallelOptions& options, Generator& gen);
  Tensor apply(const Tensor& x, const Tensor& h) override;
  Tensor apply_with_residual(const Tensor& x, const Tensor& h, const Tensor& residual) override;

  std::shared_ptr<nn::Linear> down, up;  // torch layout [out, in]
  Tensor scaling;                        // the learned s [1], when learned
  double fixed_scaling;
  ParallelInput input;
};

// Every parallel adapter of a model, named "<site>_adapter"; attach() freezes the base.
class ParallelAdapters : public nn::Module {
 public:
  ParallelAdapters(int64_t d, ParallelOptions options, uint64_t seed);
  void attach(nn::SiteMap& sites, const nn::Module& base);
  void detach();
  std::vector<std::pair<std::string, std::shared_ptr<ParallelAdapter>>> adapters;

 private:
  int64_t width_;
  ParallelOptions options_;
  Generator gen_;
  std::vector<std::pair<nn::SublayerSite*, ParallelAdapter*>> attached_;
};

}  // namespace petl::peft

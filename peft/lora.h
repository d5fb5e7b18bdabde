// LoRA (Hu et al. 2021; shared/PEFT.md §5). For a frozen linear map y = x W + b, W in R^{d_in x d_out}:
//
//     y' = x W + b + s · dropout(x) A B,     A in R^{d_in x r},  B in R^{r x d_out},  s = alpha / r
//                                                                  (alpha / sqrt(r) with rsLoRA)
//
// Unified View row (PEFT.md §13): Δh = s · x A B, a parallel modification of a linear's output,
// reading that linear's input, composed by addition; functional form "linear".
//
// Tensors are stored as torch nn.Linear weights, like `peft` and loralib: lora_A [r, d_in] (= Aᵀ),
// lora_B [d_out, r] (= Bᵀ), so saving is a renaming. Two forms, one class:
//   - whole-matrix (`peft`, target_modules ["c_attn"] on GPT-2): one rank-r update of the whole
//     output, lora_A [r, d_in], lora_B [d_out, r];
//   - column blocks (loralib MergedLinear, enable_lora [True, False, True] on GPT-2's fused c_attn):
//     the output splits into n equal blocks (q | k | v); each enabled block gets its own rank-r
//     update, none for the others. lora_A [n_on·r, d_in] stacks A_q; A_v, lora_B [n_on·d_out/n, r]
//     stacks B_q; B_v (PEFT.md §5.2).
// Init (loralib and peft's default): lora_A kaiming-uniform(a=√5) = U(±1/√d_in), lora_B = 0, so the
// model starts exactly as the base model.
// Merge: W <- W + s·A B (into the frozen weight, in its storage layout); unmerge subtracts.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/sites.h"
#include "peft/attach.h"

namespace petl::peft {

struct LoraOptions {
  int64_t r = 8;
  double alpha = 8.0;
  double dropout = 0.0;
  bool use_rslora = false;
  // Which output blocks get an update: {true} = the whole matrix; {true, false, true} = loralib's
  // q and v of a fused q|k|v projection.
  std::vector<bool> enabled_blocks = {true};
  double scaling() const;
};

// The LoRA update of one Linear, attached to its LinearSite.
class LoraLinear : public nn::Module, public nn::LinearHook {
 public:
  LoraLinear(const LinearTarget& target, const LoraOptions& options, Generator& init);
  Tensor apply(const Tensor& x, const Tensor& y) override;
  // The update in math layout, s · A B [d_in, d_out] (zero columns for disabled blocks).
  Tensor delta_weight() const;
  void merge();
  void unmerge();
  bool merged() const { return merged_; }
  // Dropout masks come from this generator (train reseeds it per micro-batch for reproducible runs).
  Generator& dropout_generator() { return dropout_gen_; }

  Tensor lora_A, lora_B;
  LinearTarget target;
  LoraOptions options;

 private:
  int64_t block_width() const;
  bool merged_ = false;
  Generator dropout_gen_;
};

// LoRA on every Linear of a model matching `target_modules`. Its parameters are named as in peft's
// saved file without the "base_model.model." prefix: "<site>.lora_A.weight", "<site>.lora_B.weight".
// Attaching freezes the base model (only lora_A, lora_B train). The hooks stay attached (the sites
// share them) until detach().
class Lora : public nn::Module {
 public:
  Lora(nn::Module& model, const nn::SiteMap& sites, std::vector<std::string> target_modules,
       const LoraOptions& options, Generator& init);
  void merge();
  void unmerge();
  void detach();  // removes the hooks (unmerging first if merged)
  const std::vector<std::shared_ptr<LoraLinear>>& layers() const { return layers_; }
  const std::vector<std::string>& target_modules() const { return target_modules_; }
  const LoraOptions& options() const { return options_; }

 private:
  std::vector<std::shared_ptr<LoraLinear>> layers_;
  std::vector<std::string> target_modules_;
  LoraOptions options_;
};

}  // namespace petl::peft

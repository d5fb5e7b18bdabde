// (IA)^3 (Liu et al. 2022; shared/PEFT.md §11): learned vectors rescale activations elementwise.
// On a frozen linear map y = x W + b:
//
//     output scaling   y' = l ⊙ (x W + b),   l in R^{d_out}   (stored [d_out, 1]: k, v or q|k|v)
//     input scaling    y' = (l ⊙ x) W + b,   l in R^{d_in}    (stored [1, d_in]: a "feedforward"
//                                                              module, e.g. GPT-2 mlp.c_proj reading
//                                                              the post-GELU activation, l_ff)
//
// Unified View row (PEFT.md §13): a multiplicative, input-independent modification of a projection's
// output (or of the FFN hidden state), composed by scaling.
// `peft`'s default for gpt2: target_modules ["c_attn", "mlp.c_proj"], feedforward ["mlp.c_proj"]
// (so q, k and v are scaled, PEFT.md §11.2). The paper's placement on GPT-2's fused c_attn scales k
// and v only: `output_blocks` {false, true, true} splits the output into q | k | v and learns l for the
// enabled blocks (the others are scaled by 1); that form has no peft format. Init: all ones, the identity.
// Merge: output scaling multiplies W's output columns and b by l; input scaling multiplies W's input
// rows (math layout) by l, b untouched. Unmerge divides (exact only up to f32 rounding).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/sites.h"
#include "peft/attach.h"

namespace petl::peft {

class Ia3Linear : public nn::Module, public nn::LinearHook {
 public:
  Ia3Linear(const LinearTarget& target, bool feedforward, std::vector<bool> output_blocks = {true});
  Tensor apply(const Tensor& x, const Tensor& y) override;
  void merge();
  void unmerge();
  bool merged() const { return merged_; }

  // The scale of every output feature [d_out]: ia3_l, with ones for disabled blocks.
  Tensor output_scale() const;

  Tensor ia3_l;  // [d_out, 1] (output scaling; [n_on·d_out/n, 1] with blocks) or [1, d_in] (feedforward)
  LinearTarget target;
  bool feedforward;
  std::vector<bool> output_blocks;

 private:
  void rescale(bool divide);
  bool merged_ = false;
};

// (IA)^3 on every Linear matching `target_modules`; those also matching `feedforward_modules` scale
// their input. Parameter names are peft's saved keys without "base_model.model.": "<site>.ia3_l".
// Attaching freezes the base model.
class Ia3 : public nn::Module {
 public:
  Ia3(nn::Module& model, const nn::SiteMap& sites, std::vector<std::string> target_modules,
      std::vector<std::string> feedforward_modules, std::vector<bool> output_blocks = {true});
  void merge();
  void unmerge();
  void detach();
  const std::vector<std::shared_ptr<Ia3Linear>>& layers() const { return layers_; }
  const std::vector<std::string>& target_modules() const { return target_modules_; }
  const std::vector<std::string>& feedforward_modules() const { return feedforward_modules_; }
  const std::vector<bool>& output_blocks() const { return output_blocks_; }

 private:
  std::vector<std::shared_ptr<Ia3Linear>> layers_;
  std::vector<std::string> target_modules_, feedforward_modules_;
  std::vector<bool> output_blocks_;
};

}  // namespace petl::peft

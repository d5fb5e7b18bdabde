// Applying a parsed spec (peft/spec.h) to a GPT-2 or BART model through its SiteMap: one nn::Module
// owning every entry's parameters, the base model frozen except what the spec trains of it.
//
// Entry i becomes the module "<i>_<method>" built by the method's own class (peft/lora.h,
// peft/prefix_tuning.h, ...) from the seed `seed + i`, so composing a single method gives exactly the
// parameters, and so the logits, of building that class directly with that seed. The spec's site
// names map to the model's sites (peft/attach.h patterns):
//
//   site        GPT-2                        BART
//   attn        h.*.attn                     *.self_attn, *.encoder_attn
//   self_attn   h.*.attn                     *.self_attn
//   cross_attn  (none: an error)             decoder *.encoder_attn
//   ffn         h.*.mlp                      *.ffn
//   heads       h.*.attn.heads               *.heads
//   q, k, v     c_attn column blocks         q_proj, k_proj, v_proj
//   qkv         c_attn (the whole matrix)    q_proj, k_proj, v_proj
//   o           attn.c_proj                  out_proj
//   fc1, fc2    mlp.c_fc, mlp.c_proj         fc1, fc2
//   ffn_hidden  mlp.c_proj's input           fc2's input
//   input       transformer.wte              the encoder's embed_tokens
//
// A LoRA entry that needs both forms on GPT-2 (e.g. `lora@q,v,o`: column blocks of c_attn and the
// whole attn.c_proj) holds two Lora modules, children "blocks" and "whole", drawn in that order.
// Attach order is the spec's order. Methods that train base weights (full, ft_top, bitfit, and
// sequential adapters with train_ln) are applied after every module has frozen the base, so their
// union trains. A spec that puts (IA)^3 and LoRA on one Linear is refused: which hook runs first
// (scale then add, or add then scale) would be an accident of order.
//
// Save format (neither Hugging Face library has composed methods): a directory with
//   petl_adapter.json           {"format": "petl-composed", "version": 1, "spec": "<canonical spec>"}
//   adapter_model.safetensors   every parameter of the ComposedMethod by name, plus the base
//                               weights it trains as "base.<name>"
// both written atomically (nn/atomic_file.h). Loading composes the spec again and refuses a file
// whose tensors differ from what the spec builds, naming the key.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
#include "peft/spec.h"

namespace petl::peft {

class ComposedMethod : public nn::Module {
 public:
  ComposedMethod(Spec spec, nn::Module& base);
  // Registers entry i's module as "<i>_<method>".
  void add_part(size_t entry, std::shared_ptr<nn::Module> part, std::function<void()> detach);
  void detach();

  // The base parameters that train, by name (in the base model's order).
  std::vector<std::pair<std::string, Tensor>> base_trainable() const;
  // Own trainable parameters plus the base weights the spec trains.
  int64_t trainable_parameter_count() const;
  // Every tensor that trains: own parameters, then the base's (for the optimizer).
  std::vector<Tensor> all_trainable_parameters() const;
  // GPT-2 position ids with a prefix counted as a past (PEFT.md §3.4), or undefined (no prefix).
  Tensor position_ids(int64_t batch, int64_t tokens) const;

  const Spec spec;
  std::vector<std::shared_ptr<nn::Module>> parts;  // entry i's module (null for full, ft_top, bitfit)
  std::shared_ptr<PrefixTuning> prefix;             // the prefix entry's module, if any
  std::shared_ptr<PromptTuning> prompt;             // the prompt entry's module, if any

 private:
  nn::Module& base_;
  std::vector<std::function<void()>> detachers_;
};

// Builds and attaches every entry of `spec` on `model` (a Gpt2LMHead or BartForConditionalGeneration).
std::shared_ptr<ComposedMethod> compose(const Spec& spec, nn::Module& model, uint64_t seed = 0);
std::shared_ptr<ComposedMethod> compose(const std::string& spec, nn::Module& model, uint64_t seed = 0);

// The same built for `model` but attached to `sites`, a SiteMap with the model's site names: a
// mixed batch's task (MixedBatch::task_sites, peft/mixed_batch.h), so each task of one batch can hold
// a composed method or a preset ("mam" on one task, "lora:r=8@q,v" on another). The parameters are
// those compose(spec, model, seed) draws. Refused there, naming the entry: methods that train base
// weights (full, ft_top, bitfit, sequential with train_ln), which every task shares, and prompt
// tuning, which lengthens the rows.
std::shared_ptr<ComposedMethod> compose(const Spec& spec, nn::Module& model, nn::SiteMap& sites, uint64_t seed = 0);
std::shared_ptr<ComposedMethod> compose(const std::string& spec, nn::Module& model, nn::SiteMap& sites,
                                        uint64_t seed = 0);

void save_composed(const ComposedMethod& method, const std::filesystem::path& dir);
// Composes the saved spec on `model` and loads its tensors; errors name the file and the key.
std::shared_ptr<ComposedMethod> load_composed(const std::filesystem::path& dir, nn::Module& model);

}  // namespace petl::peft

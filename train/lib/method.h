// From a method name and its options to the peft/ constructors: the ONE place `train` chooses what
// trains (shared/PEFT.md). Each method's defaults are its paper's settings for GPT-2 on table-to-text
// (PEFT.md §§1-11); every option can be overridden by a JSON object (--method-options / the config
// file), and an option the method does not have is an error naming it and listing the valid ones.
//
//   full      every parameter                          {}
//   ft-top-k  the last k blocks, ln_f, wte (PEFT.md §1) {"k": 2}
//   lora      LoRA (§5), r and alpha of Hu et al.'s E2E {"r": 4, "alpha": 32, "dropout": 0.1, "target_modules": ["c_attn"], "qkv_blocks": [true]}
//             on the whole c_attn (peft's GPT-2 form, saved in peft's format); "qkv_blocks": [true, false, true]
//             is the paper's q and v only (loralib MergedLinear), which peft cannot save: petl layout
//   prefix    prefix tuning, MLP reparameterization    {"length": 5, "hidden": 512, "projection": true}
//   prompt    prompt tuning (§4)                       {"length": 20}
//   bitfit    biases only (§10)                        {}
//   ia3       (IA)^3 (§11)                             {"target_modules": ["c_attn", "mlp.c_proj"], "feedforward_modules": ["mlp.c_proj"]}
//   houlsby   Houlsby adapters after attn and FFN (§2) {"bottleneck": 64}
//   pfeiffer  one adapter after the FFN (§2.7)         {"bottleneck": 64}
//   parallel  scaled parallel adapter at the FFN (§8)  {"bottleneck": 512, "scaling": 4}
//   mam       prefix l=30 k=800 + parallel r=512 s=4   {"length": 30, "hidden": 800, "bottleneck": 512, "scaling": 4}
//
// Besides these names, `--method` takes any preset of peft/presets.h (houlsby, scaled-parallel,
// lora-peft, multihead-parallel, ...) or a Unified View spec string (peft/spec.h, e.g.
// `prefix:l=30@attn + parallel:r=512,s=4@ffn`), built by peft/compose on GPT-2 or BART and saved in
// compose's own format (petl_adapter.json + adapter_model.safetensors). The names above keep their
// own classes on GPT-2 (same defaults, same results, same save formats); on BART a name is the spec
// of the same method (bart_spec_for_name), and its hyperparameters change through a spec string.
// A name is looked up first, then a preset, then a spec; GPT-2 decoding gives the prefix no
// positions (the tokens keep positions 0..T-1, as the named prefix method), prompt tuning's rows do
// take positions (added_positions()).
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/module.h"
#include "train/lib/train_state.h"

namespace petl::train {

const std::vector<std::string>& method_names();

// The peak learning rate the method's paper used on table-to-text or summarization (PEFT.md):
// full / ft-top-k 5e-5 (Li & Liang), lora 2e-4 (Hu et al. E2E), prefix 8e-5 (Li & Liang E2E),
// prompt 0.3 (Lester et al., with Adafactor), bitfit 4e-4, ia3 3e-3 (T-Few), houlsby / pfeiffer 1e-4,
// parallel / mam 5e-5 (He et al.). The preset `train finetune` uses when --lr is not given. For a
// preset or spec string: its first entry's method (prefix -> 8e-5, sequential -> 1e-4, ...).
double paper_learning_rate(const std::string& method);

class AttachedMethod {
 public:
  virtual ~AttachedMethod() = default;
  const std::string& name() const { return name_; }
  // The options after the defaults were filled in (what config.json records).
  const nlohmann::json& options() const { return options_; }
  // Every tensor that trains, named "model.<parameter>" (the base model's own) or "method.<parameter>".
  NamedTensors trainable() const;
  int64_t trainable_count() const;
  // Reseeds the dropout generators the method owns (LoRA's), so a micro-batch's masks depend only on
  // `seed` (the model's own generator is reseeded by the caller).
  virtual void reseed_dropout(uint64_t /*seed*/) {}
  // Training or evaluation mode of the method's own modules (LoRA's dropout), which the model's
  // train() does not reach: they are not the model's children. Callers switch both together.
  void train(bool on) {
    if (module_) module_->train(on);
  }
  bool training() const { return module_ ? module_->training() : false; }
  // Positions the method's own rows take in front of the tokens (prompt tuning: P), so callers keep
  // sequences within n_positions.
  virtual int64_t added_positions() const { return 0; }
  // labels [B, T] as the loss must see them (prompt tuning puts P ignored labels in front).
  virtual Tensor loss_labels(const Tensor& labels) const { return labels; }
  // The trained method in Hugging Face's layout: a peft adapter directory (lora, ia3, prefix with the
  // MLP folded away, prompt), the whole model (full, ft-top-k, bitfit), or, for the adapters peft has
  // no format for, adapter_model.safetensors + adapter_config.json naming the petl method.
  virtual void save(const std::filesystem::path& dir, const std::string& base_model) const = 0;
  // LoRA merged into the base weights (export --merge); false for methods that cannot merge.
  virtual bool merge_into_base() { return false; }

 protected:
  AttachedMethod(std::string name, nlohmann::json options, nn::Module& model, std::shared_ptr<nn::Module> module)
      : name_(std::move(name)), options_(std::move(options)), model_(model), module_(std::move(module)) {}
  std::string name_;
  nlohmann::json options_;
  nn::Module& model_;  // a Gpt2LMHead or a BartForConditionalGeneration
  std::shared_ptr<nn::Module> module_;  // the method's own parameters (null when only the model's train)
};

// The spec a method name stands for on BART (the GPT-2 class's defaults where the spec language
// has them: lora r=4, alpha=32, dropout 0.1 on q,k,v; prompt l=20; ...); ft-top-k has none (FT-top-k
// is defined for GPT-2's blocks only) and is an error.
std::string bart_spec_for_name(const std::string& name);

// Attaches `name` (a method name, a preset or a spec string) with `options` (an object; missing keys
// take the defaults; only method names on GPT-2 take options) to `model` (a Gpt2LMHead or a
// BartForConditionalGeneration); the method's new tensors are initialized from `seed`. Unknown
// names, presets, specs and options are errors listing the valid ones.
std::unique_ptr<AttachedMethod> attach_method(const std::string& name, const nlohmann::json& options,
                                              nn::Module& model, uint64_t seed);

}  // namespace petl::train

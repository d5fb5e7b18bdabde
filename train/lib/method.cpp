#include "train/lib/method.h"

#include <map>

#include "nn/atomic_file.h"
#include "nn/bart.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/safetensors.h"
#include "nn/state_dict.h"
#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/compose.h"
#include "peft/finetune.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/mam.h"
#include "peft/parallel_adapter.h"
#include "peft/peft_format.h"
#include "peft/prefix_tuning.h"
#include "peft/presets.h"
#include "peft/prompt_tuning.h"
#include "peft/spec.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace petl::train {
namespace {

using json = nlohmann::json;

const std::map<std::string, json>& method_defaults() {
  static const std::map<std::string, json> defaults = {
      {"full", json::object()},
      {"ft-top-k", {{"k", 2}}},
      {"lora", {{"r", 4}, {"alpha", 32.0}, {"dropout", 0.1}, {"target_modules", {"c_attn"}},
                {"qkv_blocks", {true}}}},
      {"prefix", {{"length", 5}, {"hidden", 512}, {"projection", true}}},
      {"prompt", {{"length", 20}}},
      {"bitfit", json::object()},
      {"ia3", {{"target_modules", {"c_attn", "mlp.c_proj"}}, {"feedforward_modules", {"mlp.c_proj"}}}},
      {"houlsby", {{"bottleneck", 64}}},
      {"pfeiffer", {{"bottleneck", 64}}},
      {"parallel", {{"bottleneck", 512}, {"scaling", 4.0}}},
      {"mam", {{"length", 30}, {"hidden", 800}, {"bottleneck", 512}, {"scaling", 4.0}}},
  };
  return defaults;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Defaults overridden by `given`; an unknown key or a value of another JSON type is an error.
json resolve_options(const std::string& method, const json& given) {
  json options = method_defaults().at(method);
  PETL_CHECK(given.is_object(), "method ", method, ": options must be a JSON object, got ", given.dump());
  for (const auto& item : given.items()) {
    if (!options.contains(item.key())) {
      std::vector<std::string> valid;
      for (const auto& known : options.items()) valid.push_back(known.key());
      throw Error("method " + method + ": unknown option '" + item.key() + "' (valid: " +
                  (valid.empty() ? std::string("none") : joined(valid)) + ")");
    }
    const json& def = options[item.key()];
    const bool same_kind = (def.is_number() && item.value().is_number()) || def.type() == item.value().type();
    PETL_CHECK(same_kind, "method ", method, ": option '", item.key(), "' expects a value like ", def.dump(), ", got ",
               item.value().dump());
    options[item.key()] = item.value();
  }
  return options;
}

int64_t positive(const json& options, const char* key, const std::string& method) {
  const int64_t v = options.at(key).get<int64_t>();
  PETL_CHECK(v >= 1, "method ", method, ": option '", key, "' must be >= 1, got ", v);
  return v;
}

// The methods whose trainable tensors are the model's own.
class ModelOwnMethod : public AttachedMethod {
 public:
  ModelOwnMethod(std::string name, json options, nn::Gpt2LMHead& model)
      : AttachedMethod(std::move(name), std::move(options), model, nullptr), gpt2_(model) {}
  void save(const std::filesystem::path& dir, const std::string&) const override { nn::save_gpt2(gpt2_, dir); }

 private:
  nn::Gpt2LMHead& gpt2_;
};

// The method's tensors under their petl names and a config naming the method: the layout for what
// peft has no format for.
void save_petl_layout(const std::filesystem::path& dir, const std::string& method, const json& options,
                      const nn::Module& module, const std::string& base) {
  std::filesystem::create_directories(dir);
  nn::save_safetensors(dir / "adapter_model.safetensors", nn::state_dict(module));
  const json config = {{"petl_method", method}, {"options", options}, {"base_model_name_or_path", base}};
  nn::write_file_atomic(dir / "adapter_config.json", config.dump(2) + "\n");
}

class LoraMethod : public AttachedMethod {
 public:
  LoraMethod(json options, nn::Gpt2LMHead& model, std::shared_ptr<peft::Lora> lora)
      : AttachedMethod("lora", std::move(options), model, lora), lora_(std::move(lora)) {}
  void save(const std::filesystem::path& dir, const std::string& base) const override {
    if (lora_->options().enabled_blocks.size() > 1)  // loralib's q/v column blocks: peft cannot express them
      return save_petl_layout(dir, name_, options_, *lora_, base);
    peft::PeftSaveInfo info;
    info.base_model_name_or_path = base;
    peft::save_peft_lora(*lora_, dir, info);
  }
  bool merge_into_base() override {
    lora_->merge();
    return true;
  }
  void reseed_dropout(uint64_t seed) override {
    uint64_t i = 0;
    for (const auto& layer : lora_->layers()) layer->dropout_generator().manual_seed(mix64(seed + ++i));
  }

 private:
  std::shared_ptr<peft::Lora> lora_;
};

class Ia3Method : public AttachedMethod {
 public:
  Ia3Method(json options, nn::Gpt2LMHead& model, std::shared_ptr<peft::Ia3> ia3)
      : AttachedMethod("ia3", std::move(options), model, ia3), ia3_(std::move(ia3)) {}
  void save(const std::filesystem::path& dir, const std::string& base) const override {
    peft::PeftSaveInfo info;
    info.base_model_name_or_path = base;
    peft::save_peft_ia3(*ia3_, dir, info);
  }
  bool merge_into_base() override {
    ia3_->merge();
    return true;
  }

 private:
  std::shared_ptr<peft::Ia3> ia3_;
};

class PrefixMethod : public AttachedMethod {
 public:
  PrefixMethod(json options, nn::Gpt2LMHead& model, std::shared_ptr<peft::PrefixTuning> prefix)
      : AttachedMethod("prefix", std::move(options), model, prefix), prefix_(std::move(prefix)) {}
  void save(const std::filesystem::path& dir, const std::string& base) const override { prefix_->save_peft(dir, base); }

 private:
  std::shared_ptr<peft::PrefixTuning> prefix_;
};

class PromptMethod : public AttachedMethod {
 public:
  PromptMethod(json options, nn::Gpt2LMHead& model, std::shared_ptr<peft::PromptTuning> prompt)
      : AttachedMethod("prompt", std::move(options), model, prompt), gpt2_(model), prompt_(std::move(prompt)) {}
  Tensor loss_labels(const Tensor& labels) const override { return prompt_->extend_labels(labels); }
  int64_t added_positions() const override { return prompt_->length; }
  void save(const std::filesystem::path& dir, const std::string& base) const override {
    prompt_->save_peft(dir, gpt2_.config().n_layer, gpt2_.config().n_head, base);
  }

 private:
  nn::Gpt2LMHead& gpt2_;
  std::shared_ptr<peft::PromptTuning> prompt_;
};

// Adapters without a peft format: their tensors under their petl names, and a config naming them.
class AdapterMethod : public AttachedMethod {
 public:
  AdapterMethod(std::string name, json options, nn::Gpt2LMHead& model, std::shared_ptr<nn::Module> module)
      : AttachedMethod(std::move(name), std::move(options), model, std::move(module)) {}
  void save(const std::filesystem::path& dir, const std::string& base) const override {
    save_petl_layout(dir, name_, options_, *module_, base);
  }
};

// Every LoRA layer under `module` (a composed entry may hold two Lora modules under one part).
void collect_lora_layers(const nn::Module& module, std::vector<std::shared_ptr<peft::LoraLinear>>& out) {
  if (const auto* lora = dynamic_cast<const peft::Lora*>(&module)) {
    out.insert(out.end(), lora->layers().begin(), lora->layers().end());
    return;
  }
  for (const auto& child : module.children()) collect_lora_layers(*child.second, out);
}

// A preset or a Unified View spec string built by peft/compose (GPT-2 or BART), saved in compose's
// format. The base's own tensors that train (full, bitfit, train_ln, ...) are "model.<name>" in
// trainable(), the composed modules' "method.<name>".
class ComposedSpecMethod : public AttachedMethod {
 public:
  ComposedSpecMethod(std::string name, nn::Module& model, std::shared_ptr<peft::ComposedMethod> composed)
      : AttachedMethod(std::move(name), json{{"spec", peft::to_string(composed->spec)}}, model, composed),
        composed_(std::move(composed)),
        encoder_decoder_(dynamic_cast<nn::BartForConditionalGeneration*>(&model) != nullptr) {
    collect_lora_layers(*composed_, lora_layers_);
  }
  void reseed_dropout(uint64_t seed) override {
    uint64_t i = 0;
    for (const auto& layer : lora_layers_) layer->dropout_generator().manual_seed(mix64(seed + ++i));
  }
  // Prompt rows take positions in front of GPT-2's tokens and BART's encoder tokens; the loss sees
  // them only on GPT-2 (BART's labels are the decoder's).
  int64_t added_positions() const override { return composed_->prompt ? composed_->prompt->length : 0; }
  Tensor loss_labels(const Tensor& labels) const override {
    return composed_->prompt && !encoder_decoder_ ? composed_->prompt->extend_labels(labels) : labels;
  }
  void save(const std::filesystem::path& dir, const std::string&) const override { peft::save_composed(*composed_, dir); }

 private:
  std::shared_ptr<peft::ComposedMethod> composed_;
  bool encoder_decoder_;
  std::vector<std::shared_ptr<peft::LoraLinear>> lora_layers_;
};

// A preset or a spec string, parsed; an error lists the names and presets with the parser's reason.
peft::Spec parse_method_spec(const std::string& name) {
  try {
    return peft::parse_spec(name);
  } catch (const Error& e) {
    throw Error("unknown method '" + name + "' (valid: " + joined(method_names()) + "); presets: " +
                joined(peft::preset_names()) +
                "; or a Unified View spec string such as 'prefix:l=30@attn + parallel:r=512,s=4@ffn' (peft/spec.h). "
                "As a spec: " + e.what());
  }
}

std::unique_ptr<AttachedMethod> attach_spec(const std::string& name, const peft::Spec& spec, const json& given,
                                            nn::Module& model, uint64_t seed) {
  // options() of a spec method is {"spec": <canonical spec>}, which a run's config.json records.
  const bool recorded = given.is_object() && given.size() == 1 && given.contains("spec") &&
                        given["spec"] == json(peft::to_string(spec));
  PETL_CHECK(recorded || (given.is_object() && given.empty()), "method '", name,
             "': --method-options apply to the method names on GPT-2; give a preset's or spec's hyperparameters "
             "in the spec string itself (e.g. 'lora:r=8,alpha=16@q,v'), got ", given.dump());
  return std::make_unique<ComposedSpecMethod>(name, model, peft::compose(spec, model, seed));
}

}  // namespace

std::string bart_spec_for_name(const std::string& name) {
  static const std::map<std::string, std::string> specs = {
      {"full", "full"},
      {"lora", "lora:r=4,alpha=32,dropout=0.1@qkv"},
      {"prefix", "prefix:l=5,reparam=mlp,k=512@attn"},
      {"prompt", "prompt:l=20@input"},
      {"bitfit", "bitfit"},
      {"ia3", "ia3@qkv,ffn_hidden"},
      {"houlsby", "sequential:r=64,act=gelu_tanh,init=houlsby,input=h,train_ln=true@attn,ffn"},
      {"pfeiffer", "sequential:r=64,act=relu,init=bert,input=residual_sum,train_ln=false@ffn"},
      {"parallel", "parallel:r=512,s=4,init=lora,input=sublayer_in@ffn"},
      {"mam", "prefix:l=30,reparam=mlp,k=800@attn + parallel:r=512,s=4,init=lora,input=sublayer_in@ffn"},
  };
  PETL_CHECK(name != "ft-top-k", "method 'ft-top-k' is defined for GPT-2's blocks only; on BART use full or another "
                                 "method");
  const auto it = specs.find(name);
  PETL_CHECK(it != specs.end(), "unknown method '", name, "' (valid: ", joined(method_names()), ")");
  return it->second;
}

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = {"full",  "ft-top-k", "lora",    "prefix",   "prompt",  "bitfit",
                                                 "ia3",   "houlsby",  "pfeiffer", "parallel", "mam"};
  return names;
}

double paper_learning_rate(const std::string& method) {
  static const std::map<std::string, double> rates = {
      {"full", 5e-5},    {"ft-top-k", 5e-5}, {"lora", 2e-4},    {"prefix", 8e-5},   {"prompt", 0.3}, {"bitfit", 4e-4},
      {"ia3", 3e-3},     {"houlsby", 1e-4},  {"pfeiffer", 1e-4}, {"parallel", 5e-5}, {"mam", 5e-5}};
  const auto it = rates.find(method);
  if (it != rates.end()) return it->second;
  // A preset or spec: He et al.'s 5e-5 when it holds a parallel adapter (MAM too), else the rate of
  // its first entry's method.
  const peft::Spec spec = parse_method_spec(method);
  static const std::map<std::string, double> by_spec_method = {
      {"full", 5e-5},   {"ft_top", 5e-5}, {"bitfit", 4e-4},     {"lora", 2e-4},        {"ia3", 3e-3},
      {"prefix", 8e-5}, {"prompt", 0.3},  {"sequential", 1e-4}, {"parallel", 5e-5}, {"mh_parallel", 5e-5}};
  for (const auto& e : spec.entries)
    if (e.method == "parallel" || e.method == "mh_parallel") return 5e-5;
  const auto found = by_spec_method.find(spec.entries.front().method);
  PETL_CHECK(found != by_spec_method.end(), "method '", method, "': no paper learning rate for '",
             spec.entries.front().method, "'; give --lr");
  return found->second;
}

NamedTensors AttachedMethod::trainable() const {
  NamedTensors out;
  for (auto& [name, tensor] : model_.named_parameters())
    if (tensor.requires_grad()) out.emplace_back("model." + name, tensor);
  if (module_)
    for (auto& [name, tensor] : module_->named_parameters())
      if (tensor.requires_grad()) out.emplace_back("method." + name, tensor);
  return out;
}

int64_t AttachedMethod::trainable_count() const {
  int64_t n = 0;
  for (const auto& entry : trainable()) n += entry.second.numel();
  return n;
}

std::unique_ptr<AttachedMethod> attach_method(const std::string& name, const json& given, nn::Module& base,
                                              uint64_t seed) {
  auto* gpt2 = dynamic_cast<nn::Gpt2LMHead*>(&base);
  if (!gpt2 || !method_defaults().count(name)) {
    PETL_CHECK(gpt2 || dynamic_cast<nn::BartForConditionalGeneration*>(&base),
               "attach_method: the model must be a GPT-2 or a BART");
    const std::string spec_text = method_defaults().count(name) ? bart_spec_for_name(name) : name;
    return attach_spec(name, parse_method_spec(spec_text), given, base, seed);
  }
  nn::Gpt2LMHead& model = *gpt2;
  const json o = resolve_options(name, given);
  const auto& c = model.config();
  nn::SiteMap sites = model.sites();
  Generator init(seed);
  if (name == "full") {
    peft::apply_full_finetune(model);
    return std::make_unique<ModelOwnMethod>(name, o, model);
  }
  if (name == "ft-top-k") {
    peft::apply_finetune_top_k(model, positive(o, "k", name));
    return std::make_unique<ModelOwnMethod>(name, o, model);
  }
  if (name == "bitfit") {
    peft::apply_bitfit(model);
    return std::make_unique<ModelOwnMethod>(name, o, model);
  }
  if (name == "lora") {
    peft::LoraOptions lo;
    lo.r = positive(o, "r", name);
    lo.alpha = o["alpha"].get<double>();
    lo.dropout = o["dropout"].get<double>();
    lo.enabled_blocks = o["qkv_blocks"].get<std::vector<bool>>();
    auto lora = std::make_shared<peft::Lora>(model, sites, o["target_modules"].get<std::vector<std::string>>(), lo, init);
    return std::make_unique<LoraMethod>(o, model, lora);
  }
  if (name == "ia3") {
    auto ia3 = std::make_shared<peft::Ia3>(model, sites, o["target_modules"].get<std::vector<std::string>>(),
                                           o["feedforward_modules"].get<std::vector<std::string>>());
    return std::make_unique<Ia3Method>(o, model, ia3);
  }
  if (name == "prefix") {
    peft::PrefixTuningOptions po{positive(o, "length", name), o["projection"].get<bool>(), positive(o, "hidden", name)};
    auto prefix = std::make_shared<peft::PrefixTuning>(c.n_layer, c.n_head, c.n_embd, po, init);
    prefix->attach(sites, model);
    return std::make_unique<PrefixMethod>(o, model, prefix);
  }
  if (name == "prompt") {
    auto prompt = std::make_shared<peft::PromptTuning>(positive(o, "length", name), c.n_embd, init);
    prompt->attach(sites, model);
    return std::make_unique<PromptMethod>(o, model, prompt);
  }
  if (name == "houlsby" || name == "pfeiffer") {
    const int64_t m = positive(o, "bottleneck", name);
    auto adapters = std::make_shared<peft::BottleneckAdapters>(c.n_embd, name == "houlsby" ? peft::houlsby(m) : peft::pfeiffer(m), seed);
    adapters->attach(sites, model);
    return std::make_unique<AdapterMethod>(name, o, model, adapters);
  }
  if (name == "parallel") {
    auto adapters = std::make_shared<peft::ParallelAdapters>(
        c.n_embd, peft::scaled_parallel_adapter(positive(o, "bottleneck", name), o["scaling"].get<double>()), seed);
    adapters->attach(sites, model);
    return std::make_unique<AdapterMethod>(name, o, model, adapters);
  }
  // mam
  peft::MamOptions mo;
  mo.prefix = {positive(o, "length", name), true, positive(o, "hidden", name)};
  mo.adapter = peft::scaled_parallel_adapter(positive(o, "bottleneck", name), o["scaling"].get<double>());
  auto mam = std::make_shared<peft::Mam>(c.n_layer, c.n_head, c.n_embd, mo, seed);
  mam->attach(sites, model);
  return std::make_unique<AdapterMethod>(name, o, model, mam);
}

}  // namespace petl::train

#include "train/lib/method.h"

#include <map>

#include "nn/atomic_file.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/safetensors.h"
#include "nn/state_dict.h"
#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/finetune.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/mam.h"
#include "peft/parallel_adapter.h"
#include "peft/peft_format.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
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
      : AttachedMethod(std::move(name), std::move(options), model, nullptr) {}
  void save(const std::filesystem::path& dir, const std::string&) const override { nn::save_gpt2(model_, dir); }
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
      : AttachedMethod("prompt", std::move(options), model, prompt), prompt_(std::move(prompt)) {}
  Tensor loss_labels(const Tensor& labels) const override { return prompt_->extend_labels(labels); }
  int64_t added_positions() const override { return prompt_->length; }
  void save(const std::filesystem::path& dir, const std::string& base) const override {
    prompt_->save_peft(dir, model_.config().n_layer, model_.config().n_head, base);
  }

 private:
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

}  // namespace

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
  PETL_CHECK(it != rates.end(), "unknown method '", method, "' (valid: ", joined(method_names()), ")");
  return it->second;
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

std::unique_ptr<AttachedMethod> attach_method(const std::string& name, const json& given, nn::Gpt2LMHead& model,
                                              uint64_t seed) {
  PETL_CHECK(method_defaults().count(name), "unknown method '", name, "' (valid: ", joined(method_names()), ")");
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

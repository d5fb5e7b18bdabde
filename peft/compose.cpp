#include "peft/compose.h"

#include <set>

#include <nlohmann/json.hpp>

#include "autograd/graph.h"
#include "nn/atomic_file.h"
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/finetune.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/multihead_parallel_adapter.h"
#include "peft/parallel_adapter.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

namespace {

// What compose needs to know of the model.
struct Target {
  nn::Module* model = nullptr;
  const nn::Gpt2LMHead* gpt2 = nullptr;  // null for BART
  int64_t width = 0, heads = 0;
  nn::SiteMap sites;
};

Target target_of(nn::Module& model) {
  Target t;
  t.model = &model;
  if (auto* g = dynamic_cast<nn::Gpt2LMHead*>(&model)) {
    t.gpt2 = g;
    t.width = g->config().n_embd;
    t.heads = g->config().n_head;
    t.sites = g->sites();
  } else if (auto* b = dynamic_cast<nn::BartForConditionalGeneration*>(&model)) {
    PETL_CHECK(b->config().encoder_attention_heads == b->config().decoder_attention_heads,
               "peft compose: BART with ", b->config().encoder_attention_heads, " encoder and ",
               b->config().decoder_attention_heads, " decoder heads is not supported (prefix rows need one head count)");
    t.width = b->config().d_model;
    t.heads = b->config().encoder_attention_heads;
    t.sites = b->sites();
  } else {
    throw Error("peft compose: the model must be a Gpt2LMHead or a BartForConditionalGeneration");
  }
  return t;
}

// The sublayer-site patterns of a spec site (the table in compose.h).
std::vector<std::string> sublayer_patterns(const Target& t, const SpecEntry& e) {
  std::vector<std::string> out;
  for (const std::string& s : e.sites) {
    if (s == "heads") {
      out.push_back("heads");
    } else if (s == "ffn") {
      out.push_back(t.gpt2 ? "mlp" : "ffn");
    } else if (s == "attn" && t.gpt2) {
      out.push_back("attn");
    } else if (s == "attn") {
      out.insert(out.end(), {"self_attn", "encoder_attn"});
    } else if (s == "self_attn") {
      out.push_back(t.gpt2 ? "attn" : "self_attn");
    } else if (s == "cross_attn") {
      PETL_CHECK(!t.gpt2, "peft compose: ", to_string(e), ": GPT-2 has no cross-attention; valid sites here: ",
                 "attn, self_attn, ffn, heads");
      out.push_back("encoder_attn");
    }
  }
  return out;
}

// Linear targets of LoRA / (IA)^3: on GPT-2, q, k, v become column blocks of the fused c_attn.
struct LinearPlan {
  std::vector<bool> blocks;             // q | k | v blocks of c_attn (GPT-2), empty when none
  std::vector<std::string> whole;       // patterns updated as whole matrices
  std::vector<std::string> feedforward; // (IA)^3 input scaling
};

LinearPlan linear_plan(const Target& t, const SpecEntry& e) {
  LinearPlan p;
  const bool q = e.has_site("q"), k = e.has_site("k"), v = e.has_site("v");
  if (t.gpt2) {
    if (q || k || v) p.blocks = {q, k, v};
    if (e.has_site("qkv")) p.whole.push_back("attn.c_attn");
    if (e.has_site("o")) p.whole.push_back("attn.c_proj");
    if (e.has_site("fc1")) p.whole.push_back("mlp.c_fc");
    if (e.has_site("fc2") || e.has_site("ffn_hidden")) p.whole.push_back("mlp.c_proj");
    if (e.has_site("ffn_hidden")) p.feedforward.push_back("mlp.c_proj");
  } else {
    if (q || e.has_site("qkv")) p.whole.push_back("q_proj");
    if (k || e.has_site("qkv")) p.whole.push_back("k_proj");
    if (v || e.has_site("qkv")) p.whole.push_back("v_proj");
    if (e.has_site("o")) p.whole.push_back("out_proj");
    if (e.has_site("fc1")) p.whole.push_back("fc1");
    if (e.has_site("fc2") || e.has_site("ffn_hidden")) p.whole.push_back("fc2");
    if (e.has_site("ffn_hidden")) p.feedforward.push_back("fc2");
  }
  return p;
}

// The linear site names a plan touches.
std::set<std::string> linear_names(const Target& t, const LinearPlan& p) {
  std::vector<std::string> patterns = p.whole;
  if (!p.blocks.empty()) patterns.push_back("attn.c_attn");
  std::set<std::string> names;
  for (const auto& entry : select_sites(t.sites.linears, patterns)) names.insert(entry.first);
  return names;
}

// A module holding other modules (an entry that needs more than one).
class Parts : public nn::Module {
 public:
  using nn::Module::register_module;
};

}  // namespace

ComposedMethod::ComposedMethod(Spec spec_, nn::Module& base) : spec(std::move(spec_)), base_(base) {
  parts.resize(spec.entries.size());
}

void ComposedMethod::add_part(size_t entry, std::shared_ptr<nn::Module> part, std::function<void()> detach) {
  if (part) parts[entry] = register_module(std::to_string(entry) + "_" + spec.entries[entry].method, part);
  if (detach) detachers_.push_back(std::move(detach));
}

void ComposedMethod::detach() {
  for (auto& d : detachers_) d();
  detachers_.clear();
}

std::vector<std::pair<std::string, Tensor>> ComposedMethod::base_trainable() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, p] : base_.named_parameters())
    if (p.requires_grad()) out.emplace_back(name, p);
  return out;
}

int64_t ComposedMethod::trainable_parameter_count() const {
  int64_t n = parameter_count(true);
  for (const auto& [name, p] : base_trainable()) n += p.numel();
  return n;
}

std::vector<Tensor> ComposedMethod::all_trainable_parameters() const {
  std::vector<Tensor> out = trainable_parameters();
  for (const auto& [name, p] : base_trainable()) out.push_back(p);
  return out;
}

Tensor ComposedMethod::position_ids(int64_t batch, int64_t tokens) const {
  return prefix ? prefix->positions(batch, tokens) : Tensor();
}

namespace {

// Builds entry i of the spec and attaches it; base weights it trains are collected in `base_trainers`.
void attach_entry(ComposedMethod& out, Target& t, nn::Module& model, size_t i, uint64_t seed,
                  std::vector<std::function<std::vector<std::string>()>>& base_trainers) {
  const Spec& spec = out.spec;
  const SpecEntry& e = spec.entries[i];
  const uint64_t entry_seed = seed + i;
  const std::string& m = e.method;
  if (m == "full") {
    base_trainers.push_back([&model] {
      apply_full_finetune(model);
      std::vector<std::string> names;
      for (const auto& np : model.named_parameters()) names.push_back(np.first);
      return names;
    });
  } else if (m == "ft_top") {
    PETL_CHECK(t.gpt2, "peft compose: ft_top (FT-top-k) is defined for GPT-2 only; on BART use full or another method");
    const nn::Gpt2LMHead* gpt2 = t.gpt2;
    const int64_t k = e.integer("k");
    const bool embedding = e.flag("embedding");
    base_trainers.push_back([gpt2, k, embedding] { return apply_finetune_top_k(*gpt2, k, embedding); });
  } else if (m == "bitfit") {
    base_trainers.push_back([&model] { return apply_bitfit(model); });
  } else if (m == "lora") {
    LoraOptions o;
    o.r = e.integer("r");
    o.alpha = e.real("alpha");
    o.dropout = e.real("dropout");
    o.use_rslora = e.flag("rslora");
    const LinearPlan plan = linear_plan(t, e);
    Generator gen(entry_seed);
    std::vector<std::shared_ptr<Lora>> loras;
    if (!plan.blocks.empty()) {
      LoraOptions blocks = o;
      blocks.enabled_blocks = plan.blocks;
      loras.push_back(std::make_shared<Lora>(model, t.sites, std::vector<std::string>{"attn.c_attn"}, blocks, gen));
    }
    if (!plan.whole.empty()) loras.push_back(std::make_shared<Lora>(model, t.sites, plan.whole, o, gen));
    std::shared_ptr<nn::Module> part = loras.front();
    if (loras.size() == 2) {
      auto both = std::make_shared<Parts>();
      both->register_module("blocks", loras[0]);
      both->register_module("whole", loras[1]);
      part = both;
    }
    out.add_part(i, part, [loras] {
      for (const auto& l : loras) l->detach();
    });
  } else if (m == "ia3") {
    const LinearPlan plan = linear_plan(t, e);
    std::vector<std::string> targets = plan.whole;
    if (!plan.blocks.empty()) targets.insert(targets.begin(), "attn.c_attn");
    auto ia3 = std::make_shared<Ia3>(model, t.sites, targets, plan.feedforward,
                                     plan.blocks.empty() ? std::vector<bool>{true} : plan.blocks);
    out.add_part(i, ia3, [ia3] { ia3->detach(); });
  } else if (m == "prefix") {
    Generator gen(entry_seed);
    const bool mlp = e.value("reparam") == "mlp";
    auto prefix = std::make_shared<PrefixTuning>(int64_t(t.sites.key_values.size()), t.heads, t.width,
                                                 PrefixTuningOptions{e.integer("l"), mlp, mlp ? e.integer("k") : 0},
                                                 gen);
    prefix->attach(t.sites, model);
    out.prefix = prefix;
    out.add_part(i, prefix, [prefix] { prefix->detach(); });
  } else if (m == "prompt") {
    Generator gen(entry_seed);
    auto prompt = std::make_shared<PromptTuning>(e.integer("l"), t.width, gen);
    prompt->attach(t.sites, model);
    out.prompt = prompt;
    out.add_part(i, prompt, [prompt] { prompt->detach(); });
  } else if (m == "sequential") {
    BottleneckOptions o;
    o.bottleneck = e.rank("r", t.width);
    const std::string& act = e.value("act");
    o.activation = act == "relu" ? AdapterActivation::Relu
                   : act == "swish" ? AdapterActivation::Swish
                                    : AdapterActivation::GeluTanh;
    const std::string& init = e.value("init");
    o.init = init == "bert" ? AdapterInit::Bert : init == "zero_up" ? AdapterInit::ZeroUp : AdapterInit::Houlsby;
    // residual_sum: r + h on GPT-2; on BART (post-LN) LN(r + h) with the sublayer's own frozen
    // LayerNorm, r being the sublayer input (peft/bottleneck_adapter.cpp, attach_original_layer_norm)
    o.reads_residual_sum = e.value("input") == "residual_sum";
    o.sites = sublayer_patterns(t, e);
    o.train_layer_norms = e.flag("train_ln");
    auto adapters = std::make_shared<BottleneckAdapters>(t.width, o, entry_seed);
    adapters->attach(t.sites, model);
    out.add_part(i, adapters, [adapters] { adapters->detach(); });
    if (o.train_layer_norms)
      base_trainers.push_back([&model] {
        std::vector<std::string> names;
        for (const auto& np : model.named_parameters())
          if (is_layer_norm_parameter(np.first)) names.push_back(np.first);
        return names;
      });
  } else if (m == "parallel") {
    ParallelOptions o;
    o.bottleneck = e.rank("r", t.width);
    o.learned_scaling = e.value("s") == "learned";
    o.scaling = o.learned_scaling ? 1.0 : e.real("s");
    o.init = e.value("init") == "bert" ? ParallelInit::Bert : ParallelInit::Lora;
    o.input = e.value("input") == "residual" ? ParallelInput::Residual : ParallelInput::SublayerIn;
    PETL_CHECK(o.input == ParallelInput::SublayerIn || !e.has_site("heads"), "peft compose: ", to_string(e),
               ": input=residual at the heads, where no residual stream is passed; valid sites for it: attn, ffn");
    o.sites = sublayer_patterns(t, e);
    auto adapters = std::make_shared<ParallelAdapters>(t.width, o, entry_seed);
    adapters->attach(t.sites, model);
    out.add_part(i, adapters, [adapters] { adapters->detach(); });
  } else if (m == "mh_parallel") {
    MultiheadParallelOptions o;
    o.rows = e.integer("r");
    o.projection = e.value("reparam") == "mlp";
    o.hidden = o.projection ? e.integer("k") : 0;
    o.dropout = e.real("dropout");
    o.sites = sublayer_patterns(t, e);
    auto adapters = std::make_shared<MultiheadParallelAdapters>(model, t.sites, t.heads, o, entry_seed);
    out.add_part(i, adapters, [adapters] { adapters->detach(); });
  } else {
    throw Error("peft compose: method '" + m + "' has no builder");
  }
}

}  // namespace

namespace {

std::shared_ptr<ComposedMethod> compose_on(const Spec& spec, nn::Module& model, Target t, uint64_t seed) {
  auto out = std::make_shared<ComposedMethod>(spec, model);

  // (IA)^3 and LoRA on one Linear: refused (see compose.h).
  std::set<std::string> lora_linears, ia3_linears;
  for (const SpecEntry& e : spec.entries) {
    if (e.method != "lora" && e.method != "ia3") continue;
    for (const auto& name : linear_names(t, linear_plan(t, e))) (e.method == "lora" ? lora_linears : ia3_linears).insert(name);
  }
  for (const auto& name : ia3_linears)
    PETL_CHECK(!lora_linears.count(name), "peft compose: '", to_string(spec), "' puts (IA)^3 and LoRA on '", name,
               "', where their order (scale then add, or add then scale) is undefined; move one of them to other ",
               "sites (lora: q, k, v, qkv, o, fc1, fc2; ia3: q, k, v, qkv, ffn_hidden)");

  std::vector<std::function<std::vector<std::string>()>> base_trainers;  // run after every module attached
  try {
    for (size_t i = 0; i < spec.entries.size(); ++i) attach_entry(*out, t, model, i, seed, base_trainers);
  } catch (...) {
    out->detach();  // a spec that fails half-way leaves no hook behind
    throw;
  }

  // Every module has frozen the base; now the base weights the spec trains, all of them.
  std::set<std::string> trained;
  for (const auto& names_of : base_trainers)
    for (const auto& name : names_of()) trained.insert(name);
  model.set_trainable(false);
  for (auto& [name, p] : model.named_parameters())
    if (trained.count(name)) p.set_requires_grad(true);
  return out;
}

}  // namespace

std::shared_ptr<ComposedMethod> compose(const Spec& spec, nn::Module& model, uint64_t seed) {
  return compose_on(spec, model, target_of(model), seed);
}

std::shared_ptr<ComposedMethod> compose(const std::string& spec, nn::Module& model, uint64_t seed) {
  return compose(parse_spec(spec), model, seed);
}

std::shared_ptr<ComposedMethod> compose(const Spec& spec, nn::Module& model, nn::SiteMap& sites, uint64_t seed) {
  Target t = target_of(model);
  auto names = [](const auto& list) {
    std::vector<std::string> out;
    for (const auto& entry : list) out.push_back(entry.first);
    return out;
  };
  PETL_CHECK(names(sites.sublayers) == names(t.sites.sublayers) && names(sites.linears) == names(t.sites.linears) &&
                 names(sites.key_values) == names(t.sites.key_values),
             "peft compose: the given sites do not mirror the model's (MixedBatch::task_sites of a router built on ",
             "this model's sites() does)");
  for (const SpecEntry& e : spec.entries) {
    // A task of a mixed batch shares the base weights with every other task (MixedBatch::check_base_frozen).
    const bool trains_base = e.method == "full" || e.method == "ft_top" || e.method == "bitfit" ||
                             (e.method == "sequential" && e.flag("train_ln"));
    PETL_CHECK(!trains_base, "peft compose: '", to_string(e), "' trains base weights, which every task of a ",
               "mixed batch shares; on task sites use methods with their own parameters only (lora, ia3, prefix, ",
               "sequential with train_ln=false, parallel, mh_parallel)");
    PETL_CHECK(e.method != "prompt", "peft compose: '", to_string(e), "' lengthens each row by its prompt, which ",
               "a mixed batch cannot route per row; use prefix instead");
  }
  t.sites = sites;
  return compose_on(spec, model, std::move(t), seed);
}

std::shared_ptr<ComposedMethod> compose(const std::string& spec, nn::Module& model, nn::SiteMap& sites,
                                        uint64_t seed) {
  return compose(parse_spec(spec), model, sites, seed);
}

namespace {
const char* kConfigFile = "petl_adapter.json";
const char* kTensorFile = "adapter_model.safetensors";
const char* kFormat = "petl-composed";

// Every tensor a composed method saves, by key.
nn::TensorMap saved_tensors(const ComposedMethod& method) {
  nn::TensorMap tensors;
  for (const auto& [name, p] : method.named_parameters()) tensors.emplace(name, p);
  for (const auto& [name, p] : method.base_trainable()) tensors.emplace("base." + name, p);
  return tensors;
}
}  // namespace

void save_composed(const ComposedMethod& method, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::string spec = to_string(method.spec);
  nn::save_safetensors(dir / kTensorFile, saved_tensors(method), {{"format", "pt"}, {"petl_spec", spec}});
  const nlohmann::json config = {{"format", kFormat}, {"version", 1}, {"spec", spec}};
  nn::write_file_atomic(dir / kConfigFile, config.dump(2) + "\n");
}

std::shared_ptr<ComposedMethod> load_composed(const std::filesystem::path& dir, nn::Module& model) {
  const std::filesystem::path config_path = dir / kConfigFile, tensor_path = dir / kTensorFile;
  const nlohmann::json config = nn::read_json_file(config_path);
  auto field = [&](const char* key) -> const nlohmann::json& {
    PETL_CHECK(config.is_object() && config.contains(key), config_path.string(), ": missing field '", key, "'");
    return config.at(key);
  };
  PETL_CHECK(field("format") == kFormat, config_path.string(), ": field 'format' is ", field("format").dump(),
             ", expected \"", kFormat, "\"");
  PETL_CHECK(field("version") == 1, config_path.string(), ": field 'version' is ", field("version").dump(),
             ", expected 1");
  PETL_CHECK(field("spec").is_string(), config_path.string(), ": field 'spec' must be a string");
  Spec spec;
  try {
    spec = parse_spec(field("spec").get<std::string>());
  } catch (const Error& e) {
    throw Error(config_path.string() + ": field 'spec': " + e.what());
  }
  auto method = compose(spec, model, 0);
  const nn::TensorMap file = nn::load_safetensors(tensor_path);
  const nn::TensorMap expected = saved_tensors(*method);
  for (const auto& [key, t] : file)
    PETL_CHECK(expected.count(key), tensor_path.string(), ": tensor '", key, "' is not part of the spec '",
               to_string(spec), "'");
  NoGradGuard no_grad;
  for (const auto& [key, t] : expected) {
    auto found = file.find(key);
    PETL_CHECK(found != file.end(), tensor_path.string(), ": missing tensor '", key, "' that the spec '",
               to_string(spec), "' needs");
    PETL_CHECK(found->second.shape() == t.shape(), tensor_path.string(), ": tensor '", key, "' has shape ",
               shape_str(found->second.shape()), ", the spec builds ", shape_str(t.shape()));
    kernel::copy_(t, found->second);
  }
  return method;
}

}  // namespace petl::peft

#include "peft/adapterhub_format.h"

#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/atomic_file.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kWeights = "adapter.safetensors";       // adapters' SAFE_WEIGHTS_NAME
const char* kPickledWeights = "pytorch_adapter.bin";  // adapters' WEIGHTS_NAME (torch pickle; not read)
const char* kConfig = "adapter_config.json";

// ---- the sites: our sublayer site name <-> AdapterHub's layer path and adapter location

struct Location {
  std::string layer, where;  // "transformer.h.0", "attention_adapters"
};

Location location_of_site(const std::string& site) {
  const size_t dot = site.rfind('.');
  PETL_CHECK(dot != std::string::npos, "AdapterHub format: site '", site, "' has no layer path");
  const std::string layer = site.substr(0, dot), sublayer = site.substr(dot + 1);
  if (sublayer == "attn" || sublayer == "self_attn") return {layer, "attention_adapters"};
  if (sublayer == "mlp" || sublayer == "ffn") return {layer, "output_adapters"};
  if (sublayer == "encoder_attn") return {layer, "cross_attention_adapters"};
  throw Error(detail::concat("AdapterHub format: no AdapterHub location for the site '", site,
                             "' (AdapterHub places bottleneck adapters after attentions and FFNs only)"));
}

// petl's parameter name inside one adapter -> AdapterHub's
std::string adapter_tensor_key(const std::string& petl_name) {
  if (petl_name == "down.weight") return "adapter_down.0.weight";
  if (petl_name == "down.bias") return "adapter_down.0.bias";
  if (petl_name == "up.weight") return "adapter_up.weight";
  if (petl_name == "up.bias") return "adapter_up.bias";
  if (petl_name == "scaling") return "scaling";
  throw Error(detail::concat("AdapterHub format: adapter parameter '", petl_name, "' has no AdapterHub key"));
}

std::string site_of(const std::string& adapter_name) {  // "<site>_adapter" -> "<site>"
  const std::string suffix = "_adapter";
  PETL_CHECK(adapter_name.ends_with(suffix), "AdapterHub format: adapter '", adapter_name, "' is not named <site>_adapter");
  return adapter_name.substr(0, adapter_name.size() - suffix.size());
}

// Every tensor of a set of bottleneck adapters under AdapterHub's keys.
template <class Adapters>
void bottleneck_tensors(const Adapters& adapters, const std::string& name, nn::TensorMap& out) {
  for (const auto& [adapter_name, adapter] : adapters.adapters) {
    const Location at = location_of_site(site_of(adapter_name));
    for (const auto& [pname, p] : adapter->named_parameters())
      out[at.layer + "." + at.where + ".adapters." + name + "." + adapter_tensor_key(pname)] = p;
  }
}

// ---- prefix tensors

std::string prefix_root(const AdapterHubModel& model) {
  return (model.model_type == "bart" ? "model" : "transformer") + std::string(".prefix_tuning.prefix_tunings.");
}

// The key of petl's prefix parameter `pname` in a projected network; flat networks have one key, control_trans.
std::string prefix_tensor_key(const std::string& pname) {
  if (pname == "embedding.weight") return "wte.weight";
  if (pname.starts_with("transform.")) return "control_trans." + pname.substr(std::string("transform.").size());
  throw Error(detail::concat("AdapterHub format: prefix parameter '", pname, "' has no AdapterHub key"));
}

void prefix_tensors(const PrefixTuning& prefix, const std::string& base, nn::TensorMap& out) {
  if (!prefix.projection) {  // flat: one vector [P 2Ld], the row-major table (AdapterHub's view(P, 2L, N_h, d_h))
    out[base + "control_trans"] = reshape(contiguous(prefix.embedding->weight), {prefix.embedding->weight.numel()});
    return;
  }
  for (const auto& [pname, p] : prefix.named_parameters()) out[base + prefix_tensor_key(pname)] = p;
}

// ---- configs

json bottleneck_config_defaults() {
  // SeqBnConfig().to_dict() of adapters 1.3 with the fields every bottleneck config carries
  return json{{"adapter_residual_before_ln", false}, {"cross_adapter", false}, {"dropout", 0.0},
              {"factorized_phm_W", true}, {"factorized_phm_rule", false},
              {"hypercomplex_nonlinearity", "glorot-uniform"}, {"init_weights", "bert"},
              {"init_weights_seed", nullptr}, {"inv_adapter", nullptr}, {"inv_adapter_reduction_factor", nullptr},
              {"is_parallel", false}, {"learn_phm", true}, {"leave_out", json::array()}, {"ln_after", false},
              {"ln_before", false}, {"mh_adapter", false}, {"non_linearity", "relu"}, {"original_ln_after", true},
              {"original_ln_before", true}, {"output_adapter", true}, {"phm_bias", true}, {"phm_c_init", "normal"},
              {"phm_dim", 4}, {"phm_init_range", 0.0001}, {"phm_layer", false}, {"phm_rank", 1},
              {"reduction_factor", 16}, {"residual_before_ln", true}, {"scaling", 1.0}, {"shared_W_phm", false},
              {"shared_phm_rule", true}, {"stochastic_depth", 0.0}, {"use_gating", false}};
}

json reduction_factor(int64_t d, int64_t m) {
  // adapters builds m = int(d // reduction_factor): an integer factor when m divides d, else d / m
  if (d % m == 0) return d / m;
  return double(d) / double(m);
}

// Which AdapterHub locations the attached adapters occupy. AdapterHub puts an adapter at a location
// of every layer (leave_out is not written): a subset of layers is an error.
template <class Adapters>
void set_locations(json& config, const Adapters& adapters, const AdapterHubModel& model) {
  PETL_CHECK(!adapters.adapters.empty(), "AdapterHub format: the adapters are not attached (no sites to write)");
  std::map<std::string, int64_t> count;
  for (const auto& [adapter_name, adapter] : adapters.adapters) ++count[location_of_site(site_of(adapter_name)).where];
  const int64_t all_layers = model.layers + model.encoder_layers;  // GPT-2: n_layer; BART: encoder + decoder
  for (const auto& [where, n] : count) {
    const int64_t want = where == "cross_attention_adapters" ? model.layers : all_layers;
    PETL_CHECK(n == want, "AdapterHub format: ", n, " adapters at ", where, ", but AdapterHub's config puts one in "
               "each of the ", want, " layers (a layer subset, AdapterHub's leave_out, is not written)");
  }
  config["mh_adapter"] = count.count("attention_adapters") > 0;
  config["output_adapter"] = count.count("output_adapters") > 0;
  config["cross_adapter"] = count.count("cross_attention_adapters") > 0;
}

json sequential_config(const BottleneckAdapters& adapters, const AdapterHubModel& model) {
  const BottleneckOptions& o = adapters.options();
  const int64_t d = adapters.width();
  PETL_CHECK(!o.train_layer_norms, "AdapterHub format: these adapters train the model's LayerNorms (paper Houlsby), "
             "which an AdapterHub adapter directory cannot hold; use adapterhub_double_seq_bn or save the LayerNorms "
             "with the model");
  json c = bottleneck_config_defaults();
  set_locations(c, adapters, model);
  c["reduction_factor"] = reduction_factor(d, o.bottleneck);
  c["non_linearity"] = o.activation == AdapterActivation::Relu ? "relu" : o.activation == AdapterActivation::Swish ? "swish" : "gelu_new";
  c["original_ln_before"] = o.reads_residual_sum;
  c["init_weights"] = o.init == AdapterInit::Houlsby ? "houlsby" : o.init == AdapterInit::Bert ? "bert" : "mam_adapter";
  return c;
}

json parallel_config(const ParallelAdapters& adapters, const AdapterHubModel& model) {
  const ParallelOptions& o = adapters.options();
  const int64_t d = adapters.width();
  // AdapterHub's parallel adapter reads the residual stream; on BART that is the sublayer input too
  PETL_CHECK(o.input == ParallelInput::Residual || model.model_type == "bart", "AdapterHub format: this parallel "
             "adapter reads the sublayer input, AdapterHub's reads the residual stream (they differ on GPT-2)");
  json c = bottleneck_config_defaults();
  set_locations(c, adapters, model);
  c["reduction_factor"] = reduction_factor(d, o.bottleneck);
  c["original_ln_before"] = false;
  c["is_parallel"] = true;
  c["init_weights"] = o.init == ParallelInit::Lora ? "mam_adapter" : "bert";
  c["scaling"] = o.learned_scaling ? json("learned") : json(o.scaling);
  return c;
}

int64_t prefix_hidden(const PrefixTuning& p) { return p.projection ? p.transform0->weight.size(0) : 512; }

json prefix_config(const PrefixTuning& p) {
  // flat prefixes carry adapters' default bottleneck_size (unused when flat)
  return json{{"architecture", "prefix_tuning"}, {"bottleneck_size", prefix_hidden(p)}, {"cross_prefix", true},
              {"dropout", 0.0}, {"encoder_prefix", true}, {"flat", !p.projection}, {"init_weights_seed", nullptr},
              {"leave_out", json::array()}, {"non_linearity", "tanh"}, {"prefix_length", p.length},
              {"shared_gating", true}, {"use_gating", false}};
}

void write_directory(const fs::path& dir, const AdapterHubModel& model, const std::string& name, json config,
                     const nn::TensorMap& tensors) {
  PETL_CHECK(!name.empty() && name.find('.') == std::string::npos, "AdapterHub format: the adapter name must be "
             "non-empty without '.', got '", name, "'");
  PETL_CHECK(model.model_type == "gpt2" || model.model_type == "bart", "AdapterHub format: model_type must be gpt2 "
             "or bart, got '", model.model_type, "'");
  nn::TensorMap contiguous_tensors;
  for (const auto& [k, t] : tensors) contiguous_tensors[k] = contiguous(t).detach();
  const json file = {{"config", std::move(config)}, {"hidden_size", model.hidden_size},
                     {"model_class", model.model_class}, {"model_name", model.model_name},
                     {"model_type", model.model_type}, {"name", name},
                     {"version", std::string("adapters.") + kAdaptersVersion}};
  fs::create_directories(dir);
  nn::save_safetensors(dir / kWeights, contiguous_tensors);
  nn::write_file_atomic(dir / kConfig, file.dump(2) + "\n");
}

}  // namespace

AdapterHubModel adapterhub_model(const nn::Gpt2LMHead& model, const std::string& model_name) {
  const nn::Gpt2Config& c = model.transformer->config;
  return {"gpt2", "GPT2LMHeadModel", c.n_embd, c.n_layer, c.n_head, 0, model_name};
}

AdapterHubModel adapterhub_model(const nn::BartForConditionalGeneration& model, const std::string& model_name) {
  const nn::BartConfig& c = model.config();
  return {"bart", "BartForConditionalGeneration", c.d_model, c.decoder_layers, c.decoder_attention_heads,
          c.encoder_layers, model_name};
}

void save_adapterhub(const BottleneckAdapters& adapters, const fs::path& dir, const AdapterHubModel& model,
                     const std::string& name) {
  nn::TensorMap tensors;
  bottleneck_tensors(adapters, name, tensors);
  write_directory(dir, model, name, sequential_config(adapters, model), tensors);
}

void save_adapterhub(const ParallelAdapters& adapters, const fs::path& dir, const AdapterHubModel& model,
                     const std::string& name) {
  nn::TensorMap tensors;
  bottleneck_tensors(adapters, name, tensors);
  write_directory(dir, model, name, parallel_config(adapters, model), tensors);
}

void save_adapterhub(const PrefixTuning& prefix, const fs::path& dir, const AdapterHubModel& model,
                     const std::string& name) {
  PETL_CHECK(model.model_type == "gpt2", "AdapterHub format: a single prefix network is GPT-2's; BART's is a "
             "BartPrefixTuning");
  nn::TensorMap tensors;
  prefix_tensors(prefix, prefix_root(model) + name + ".self_prefix.", tensors);
  write_directory(dir, model, name, prefix_config(prefix), tensors);
}

void save_adapterhub(const BartPrefixTuning& prefix, const fs::path& dir, const AdapterHubModel& model,
                     const std::string& name) {
  PETL_CHECK(prefix.placement == BartPrefixPlacement::Paper, "AdapterHub format: peft's BART prefix placement "
             "(decoder self-attention only, slot 2i mod L, shifted positions) has no AdapterHub form");
  PETL_CHECK(prefix.encoder_prefix->projection == prefix.self_prefix->projection &&
                 prefix.self_prefix->projection == prefix.cross_prefix->projection,
             "AdapterHub format: the three BART prefix networks must be all projected or all flat (one config)");
  nn::TensorMap tensors;
  const std::string base = prefix_root(model) + name + ".";
  prefix_tensors(*prefix.encoder_prefix, base + "encoder_prefix.", tensors);
  prefix_tensors(*prefix.self_prefix, base + "self_prefix.", tensors);
  prefix_tensors(*prefix.cross_prefix, base + "cross_prefix.", tensors);
  write_directory(dir, model, name, prefix_config(*prefix.self_prefix), tensors);
}

void save_adapterhub(const Mam& mam, const fs::path& dir, const AdapterHubModel& model, const std::string& name) {
  PETL_CHECK(model.model_type == "gpt2", "AdapterHub format: petl's Mam is GPT-2's (one prefix network)");
  nn::TensorMap tensors;
  prefix_tensors(*mam.prefix, prefix_root(model) + name + ".self_prefix.", tensors);
  bottleneck_tensors(*mam.adapters, name, tensors);
  const json config = {{"architecture", "union"},
                       {"configs", json::array({prefix_config(*mam.prefix),
                                                parallel_config(*mam.adapters, model)})}};
  write_directory(dir, model, name, config, tensors);
}

// ---- reading

namespace {

struct Reader {
  fs::path config_path, weights_path;
  json file;
  std::string name;
  nn::TensorMap tensors;
  std::set<std::string> used;

  const json& field(const json& object, const char* key) const {
    PETL_CHECK(object.is_object() && object.contains(key), config_path.string(), ": missing field '", key, "'");
    return object.at(key);
  }
  void expect(const json& config, const char* key, const json& want, const char* why) const {
    const json v = config.contains(key) ? config.at(key) : json();
    PETL_CHECK(v == want, config_path.string(), ": config field '", key, "' is ", v.dump(), ", petl reads only ",
               want.dump(), " (", why, ")");
  }
  int64_t integer(const json& config, const char* key) const {
    const json& v = field(config, key);
    PETL_CHECK(v.is_number_integer() && v.get<int64_t>() > 0, config_path.string(), ": config field '", key,
               "' must be a positive integer, got ", v.dump());
    return v.get<int64_t>();
  }
  // Copies the file's tensor `key` into p (shapes must match) and marks it used.
  void fill(const Tensor& p, const std::string& key, const Shape& stored) {
    auto it = tensors.find(key);
    PETL_CHECK(it != tensors.end(), weights_path.string(), ": tensor '", key, "' missing");
    PETL_CHECK(it->second.shape() == stored, weights_path.string(), ": tensor '", key, "' is ",
               shape_str(it->second.shape()), ", expected ", shape_str(stored));
    kernel::copy_(p, reshape(kernel::to(it->second, DType::F32), p.shape()));
    used.insert(key);
  }
  void check_all_used() const {
    for (const auto& [key, t] : tensors) {
      if (key.find(".prefix_tuning.pool.") != std::string::npos) continue;  // aliases of the pool's tensors
      PETL_CHECK(used.count(key), weights_path.string(), ": tensor '", key, "' belongs to no part of adapter '", name,
                 "' as its config describes it");
    }
  }
};

Reader open_directory(const fs::path& dir, const AdapterHubModel& model) {
  Reader r;
  r.config_path = dir / kConfig;
  r.weights_path = dir / kWeights;
  r.file = nn::read_json_file(r.config_path);
  const json& type = r.field(r.file, "model_type");
  PETL_CHECK(type == model.model_type, r.config_path.string(), ": model_type is ", type.dump(), ", the model is \"",
             model.model_type, "\"");
  const json& hidden = r.field(r.file, "hidden_size");
  PETL_CHECK(hidden == model.hidden_size, r.config_path.string(), ": hidden_size is ", hidden.dump(),
             ", the model has ", model.hidden_size);
  const json& name = r.field(r.file, "name");
  PETL_CHECK(name.is_string() && !name.get<std::string>().empty(), r.config_path.string(),
             ": name must be a non-empty string, got ", name.dump());
  r.name = name.get<std::string>();
  if (!fs::exists(r.weights_path) && fs::exists(dir / kPickledWeights))
    throw Error(detail::concat((dir / kPickledWeights).string(), ": a torch pickle, which petl does not read; save "
                               "the adapter with save_adapter(..., use_safetensors=True)"));
  r.tensors = nn::load_safetensors(r.weights_path);
  return r;
}

// The bottleneck fields petl implements; everything else must keep AdapterHub's default.
void check_bottleneck_fields(const Reader& r, const json& c) {
  r.expect(c, "phm_layer", false, "PHM layers are not implemented");
  r.expect(c, "ln_before", false, "adapter-internal LayerNorms are not implemented");
  r.expect(c, "ln_after", false, "adapter-internal LayerNorms are not implemented");
  r.expect(c, "use_gating", false, "gating is not implemented");
  r.expect(c, "inv_adapter", nullptr, "invertible adapters are not implemented");
  r.expect(c, "leave_out", json::array(), "every layer carries the adapter");
  r.expect(c, "residual_before_ln", true, "the adapter's skip is the sublayer output");
  r.expect(c, "adapter_residual_before_ln", false, "the adapter's skip is the sublayer output");
  r.expect(c, "original_ln_after", true, "the model's own residual add and LayerNorm follow the adapter");
}

// The sublayer sites (peft/attach.h patterns) of the config's locations.
std::vector<std::string> site_patterns(const Reader& r, const json& c, const AdapterHubModel& model) {
  std::vector<std::string> s;
  const bool bart = model.model_type == "bart";
  if (r.field(c, "mh_adapter") == true) s.push_back(bart ? "self_attn" : "attn");
  if (r.field(c, "output_adapter") == true) s.push_back(bart ? "ffn" : "mlp");
  if (c.contains("cross_adapter") && c.at("cross_adapter") == true) {
    PETL_CHECK(bart, r.config_path.string(), ": cross_adapter is true, GPT-2 has no cross-attention");
    s.push_back("encoder_attn");
  }
  PETL_CHECK(!s.empty(), r.config_path.string(), ": neither mh_adapter nor output_adapter is true: no adapter to load");
  return s;
}

int64_t bottleneck_width(const Reader& r, const json& c, int64_t d) {
  const json& rf = r.field(c, "reduction_factor");
  PETL_CHECK(rf.is_number() && rf.get<double>() > 0, r.config_path.string(), ": reduction_factor must be a positive "
             "number (a per-layer mapping is not implemented), got ", rf.dump());
  const int64_t m = int64_t(std::floor(double(d) / rf.get<double>()));  // adapters: int(d // reduction_factor)
  PETL_CHECK(m > 0, r.config_path.string(), ": reduction_factor ", rf.dump(), " leaves no bottleneck for d = ", d);
  return m;
}

ParallelOptions parallel_options(const Reader& r, const json& c, const AdapterHubModel& model) {
  check_bottleneck_fields(r, c);
  r.expect(c, "original_ln_before", false, "a parallel adapter reads the residual stream");
  r.expect(c, "non_linearity", "relu", "petl's parallel adapter is f = ReLU");
  ParallelOptions o = adapterhub_par_bn(bottleneck_width(r, c, model.hidden_size));
  const json& s = r.field(c, "scaling");
  if (s == "learned") {
    o.learned_scaling = true;
  } else {
    PETL_CHECK(s.is_number(), r.config_path.string(), ": scaling must be a number or \"learned\", got ", s.dump());
    o.scaling = s.get<double>();
  }
  o.sites = site_patterns(r, c, model);
  if (model.model_type == "bart") o.input = ParallelInput::SublayerIn;  // BART passes the residual as the input
  return o;
}

BottleneckOptions sequential_options(const Reader& r, const json& c, const AdapterHubModel& model) {
  check_bottleneck_fields(r, c);
  r.expect(c, "scaling", 1.0, "a sequential adapter adds g(z) unscaled");
  BottleneckOptions o = pfeiffer(bottleneck_width(r, c, model.hidden_size));
  const json& f = r.field(c, "non_linearity");
  if (f == "relu") o.activation = AdapterActivation::Relu;
  else if (f == "swish" || f == "silu") o.activation = AdapterActivation::Swish;
  else if (f == "gelu_new") o.activation = AdapterActivation::GeluTanh;
  else throw Error(detail::concat(r.config_path.string(), ": non_linearity ", f.dump(), " is not implemented "
                                  "(relu, swish, gelu_new)"));
  const json& ln_before = r.field(c, "original_ln_before");
  PETL_CHECK(ln_before.is_boolean(), r.config_path.string(), ": original_ln_before must be true or false");
  o.reads_residual_sum = ln_before.get<bool>();
  o.sites = site_patterns(r, c, model);
  o.train_layer_norms = false;
  return o;
}

PrefixTuningOptions prefix_options(const Reader& r, const json& c) {
  r.expect(c, "use_gating", false, "gating is not implemented");
  r.expect(c, "leave_out", json::array(), "every layer carries the prefix");
  r.expect(c, "non_linearity", "tanh", "the prefix MLP is tanh");
  PrefixTuningOptions o;
  o.length = r.integer(c, "prefix_length");
  const json& flat = r.field(c, "flat");
  PETL_CHECK(flat.is_boolean(), r.config_path.string(), ": flat must be true or false, got ", flat.dump());
  o.projection = !flat.get<bool>();
  o.hidden = r.integer(c, "bottleneck_size");
  return o;
}

template <class Adapters>
void fill_bottleneck(Reader& r, const Adapters& adapters) {
  for (const auto& [adapter_name, adapter] : adapters.adapters) {
    const Location at = location_of_site(site_of(adapter_name));
    for (const auto& [pname, p] : adapter->named_parameters())
      r.fill(p, at.layer + "." + at.where + ".adapters." + r.name + "." + adapter_tensor_key(pname), p.shape());
  }
}

void fill_prefix(Reader& r, const PrefixTuning& prefix, const std::string& base) {
  if (!prefix.projection) {
    r.fill(prefix.embedding->weight, base + "control_trans", {prefix.embedding->weight.numel()});
    return;
  }
  for (const auto& [pname, p] : prefix.named_parameters()) r.fill(p, base + prefix_tensor_key(pname), p.shape());
}

bool is_prefix(const json& c) { return c.is_object() && c.contains("architecture") && c.at("architecture") == "prefix_tuning"; }
bool is_bottleneck(const json& c) {
  return c.is_object() && (!c.contains("architecture") || c.at("architecture").is_null() || c.at("architecture") == "bottleneck");
}

}  // namespace

LoadedAdapterHub load_adapterhub(nn::Gpt2LMHead& model, const fs::path& dir) {
  const AdapterHubModel info = adapterhub_model(model);
  Reader r = open_directory(dir, info);
  const json& c = r.field(r.file, "config");
  nn::SiteMap sites = model.sites();
  LoadedAdapterHub out{r.name, nullptr};
  const std::string prefix_base = prefix_root(info) + r.name + ".self_prefix.";
  if (is_prefix(c)) {
    Generator gen(0);
    auto prefix = std::make_shared<PrefixTuning>(info.layers, info.heads, info.hidden_size, prefix_options(r, c), gen);
    fill_prefix(r, *prefix, prefix_base);
    prefix->attach(sites, model);
    out.method = prefix;
  } else if (is_bottleneck(c)) {
    const json& parallel = r.field(c, "is_parallel");
    if (parallel == true) {
      auto adapters = std::make_shared<ParallelAdapters>(info.hidden_size, parallel_options(r, c, info), 0);
      adapters->attach(sites, model);
      fill_bottleneck(r, *adapters);
      out.method = adapters;
    } else {
      auto adapters = std::make_shared<BottleneckAdapters>(info.hidden_size, sequential_options(r, c, info), 0);
      adapters->attach(sites, model);
      fill_bottleneck(r, *adapters);
      out.method = adapters;
    }
  } else if (c.contains("architecture") && c.at("architecture") == "union") {
    const json& configs = r.field(c, "configs");
    PETL_CHECK(configs.is_array() && configs.size() == 2 && is_prefix(configs[0]) && is_bottleneck(configs[1]) &&
                   configs[1].contains("is_parallel") && configs[1].at("is_parallel") == true,
               r.config_path.string(), ": a union petl reads is MAM: [prefix_tuning, parallel bottleneck]");
    MamOptions o{prefix_options(r, configs[0]), parallel_options(r, configs[1], info)};
    auto mam = std::make_shared<Mam>(info.layers, info.heads, info.hidden_size, o, 0);
    mam->attach(sites, model);
    fill_prefix(r, *mam->prefix, prefix_base);
    fill_bottleneck(r, *mam->adapters);
    out.method = mam;
  } else {
    throw Error(detail::concat(r.config_path.string(), ": config architecture ",
                               c.contains("architecture") ? c.at("architecture").dump() : std::string("(none)"),
                               " is not read by petl (bottleneck, prefix_tuning, union of both = MAM)"));
  }
  r.check_all_used();
  return out;
}

LoadedAdapterHub load_adapterhub(nn::BartForConditionalGeneration& model, const fs::path& dir) {
  const AdapterHubModel info = adapterhub_model(model);
  Reader r = open_directory(dir, info);
  const json& c = r.field(r.file, "config");
  nn::SiteMap sites = model.sites();
  LoadedAdapterHub out{r.name, nullptr};
  if (is_prefix(c)) {
    r.expect(c, "encoder_prefix", true, "petl's BART prefix has encoder, self and cross networks");
    r.expect(c, "cross_prefix", true, "petl's BART prefix has encoder, self and cross networks");
    Generator gen(0);
    auto prefix = std::make_shared<BartPrefixTuning>(model.config(), BartPrefixOptions{prefix_options(r, c)}, gen);
    const std::string base = prefix_root(info) + r.name + ".";
    fill_prefix(r, *prefix->encoder_prefix, base + "encoder_prefix.");
    fill_prefix(r, *prefix->self_prefix, base + "self_prefix.");
    fill_prefix(r, *prefix->cross_prefix, base + "cross_prefix.");
    prefix->attach(model);
    out.method = prefix;
  } else if (is_bottleneck(c)) {
    if (r.field(c, "is_parallel") == true) {
      auto adapters = std::make_shared<ParallelAdapters>(info.hidden_size, parallel_options(r, c, info), 0);
      adapters->attach(sites, model);
      fill_bottleneck(r, *adapters);
      out.method = adapters;
    } else {
      auto adapters = std::make_shared<BottleneckAdapters>(info.hidden_size, sequential_options(r, c, info), 0);
      adapters->attach(sites, model);
      fill_bottleneck(r, *adapters);
      out.method = adapters;
    }
  } else {
    throw Error(detail::concat(r.config_path.string(), ": config architecture ",
                               c.contains("architecture") ? c.at("architecture").dump() : std::string("(none)"),
                               " is not read by petl on BART (bottleneck, prefix_tuning)"));
  }
  r.check_all_used();
  return out;
}

}  // namespace petl::peft

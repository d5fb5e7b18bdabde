#include "peft/peft_format.h"

#include <set>

#include "nn/atomic_file.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "tensor/error.h"

namespace petl::peft {

namespace {

const char* kPrefix = "base_model.model.";

nlohmann::json common_config(const char* peft_type, const std::vector<std::string>& targets, bool fan_in_fan_out,
                             const PeftSaveInfo& info) {
  nlohmann::json c;  // an ordered map: keys come out sorted, as peft writes them
  c["peft_type"] = peft_type;
  c["task_type"] = info.task_type;
  c["base_model_name_or_path"] = info.base_model_name_or_path;
  c["revision"] = nullptr;
  c["inference_mode"] = true;
  c["peft_version"] = kPeftVersion;
  c["target_modules"] = targets;
  c["exclude_modules"] = nullptr;
  c["fan_in_fan_out"] = fan_in_fan_out;  // peft forces true for GPT-2's Conv1D
  c["modules_to_save"] = nullptr;
  return c;
}

void write_adapter(const std::filesystem::path& dir, const nlohmann::json& config, const nn::Module& method) {
  std::filesystem::create_directories(dir);
  nn::TensorMap tensors;
  for (const auto& [name, p] : method.named_parameters()) tensors.emplace(kPrefix + name, p.detach());
  nn::save_safetensors(dir / "adapter_model.safetensors", tensors, {{"format", "pt"}});
  nn::write_file_atomic(dir / "adapter_config.json", config.dump(2) + "\n");
}

// The config's `key` (when present and not null) must equal `allowed`: petl implements nothing else.
void require_value(const nlohmann::json& c, const std::string& file, const std::string& key,
                   const nlohmann::json& allowed, const std::string& what) {
  if (!c.contains(key) || c[key].is_null() || c[key] == allowed) return;
  if ((c[key].is_object() || c[key].is_array()) && c[key].empty() && (allowed.is_object() || allowed.is_null()))
    return;
  throw Error(file + ": \"" + key + "\" is " + nn::json_excerpt(c[key]) + "; petl supports only " + what);
}

std::vector<std::string> string_list(const nlohmann::json& c, const std::string& file, const std::string& key,
                                     bool required) {
  if (!c.contains(key) || c[key].is_null()) {
    PETL_CHECK(!required, file, ": missing \"", key, "\" (expected a list of module names)");
    return {};
  }
  const nlohmann::json& v = c[key];
  PETL_CHECK(!v.is_string(), file, ": \"", key, "\" is the regular expression ", nn::json_excerpt(v),
             "; petl reads only a list of module names");
  PETL_CHECK(v.is_array(), file, ": \"", key, "\" must be a list of strings, found ", nn::json_excerpt(v));
  std::vector<std::string> out;
  for (const auto& e : v) {
    PETL_CHECK(e.is_string(), file, ": \"", key, "\" must hold strings, found ", nn::json_excerpt(e));
    out.push_back(e.get<std::string>());
  }
  return out;
}

nlohmann::json read_config(const std::filesystem::path& dir, const char* peft_type) {
  const std::filesystem::path path = dir / "adapter_config.json";
  const nlohmann::json c = nn::read_json_file(path);
  const std::string file = path.string();
  PETL_CHECK(c.is_object(), file, ": expected a JSON object");
  PETL_CHECK(c.contains("peft_type") && c["peft_type"].is_string(), file, ": missing \"peft_type\" (a string)");
  PETL_CHECK(c["peft_type"] == peft_type, file, ": \"peft_type\" is ", nn::json_excerpt(c["peft_type"]),
             ", expected \"", peft_type, "\"");
  require_value(c, file, "modules_to_save", nullptr, "null (no extra trained modules)");
  require_value(c, file, "exclude_modules", nullptr, "null");
  return c;
}

template <class T>
T number(const nlohmann::json& c, const std::string& file, const std::string& key, T fallback) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  PETL_CHECK(c[key].is_number(), file, ": \"", key, "\" must be a number, found ", nn::json_excerpt(c[key]));
  if constexpr (std::is_integral_v<T>)
    PETL_CHECK(c[key].is_number_integer(), file, ": \"", key, "\" must be an integer, found ", nn::json_excerpt(c[key]));
  return c[key].get<T>();
}

bool boolean(const nlohmann::json& c, const std::string& file, const std::string& key, bool fallback) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  PETL_CHECK(c[key].is_boolean(), file, ": \"", key, "\" must be true or false, found ", nn::json_excerpt(c[key]));
  return c[key].get<bool>();
}

// Fills every parameter of `method` from the file; shapes must agree and no key may be left over.
void read_tensors(const std::filesystem::path& dir, const nn::Module& method) {
  const std::filesystem::path path = dir / "adapter_model.safetensors";
  const nn::SafetensorsFile file = nn::SafetensorsFile::open(path);
  std::set<std::string> unused;
  for (const auto& k : file.keys()) unused.insert(k);
  for (const auto& [name, p] : method.named_parameters()) {
    const std::string key = kPrefix + name;
    PETL_CHECK(file.contains(key), path.string(), ": missing tensor \"", key, "\"");
    const Tensor value = file.tensor(key);
    PETL_CHECK(value.shape() == p.shape(), path.string(), ": tensor \"", key, "\" has shape ", shape_str(value.shape()),
               ", expected ", shape_str(p.shape()));
    assign(p, value);
    unused.erase(key);
  }
  PETL_CHECK(unused.empty(), path.string(), ": tensor \"", unused.empty() ? "" : *unused.begin(),
             "\" belongs to no module the config targets");
}

}  // namespace

void save_peft_lora(const Lora& lora, const std::filesystem::path& dir, const PeftSaveInfo& info) {
  const LoraOptions& o = lora.options();
  PETL_CHECK(o.enabled_blocks.size() == 1, "save_peft_lora: the column-block (loralib q/v) form has no peft format");
  const bool fan_in_fan_out = !lora.layers().empty() && lora.layers()[0]->target.layout == nn::WeightLayout::InOut;
  nlohmann::json c = common_config("LORA", lora.target_modules(), fan_in_fan_out, info);
  c["r"] = o.r;
  c["lora_alpha"] = o.alpha;
  c["lora_dropout"] = o.dropout;
  c["use_rslora"] = o.use_rslora;
  c["bias"] = "none";
  c["init_lora_weights"] = true;
  c["layers_to_transform"] = nullptr;
  c["layers_pattern"] = nullptr;
  c["rank_pattern"] = nlohmann::json::object();
  c["alpha_pattern"] = nlohmann::json::object();
  c["use_dora"] = false;
  c["lora_bias"] = false;
  write_adapter(dir, c, lora);
}

std::unique_ptr<Lora> load_peft_lora(nn::Module& model, const nn::SiteMap& sites, const std::filesystem::path& dir) {
  const nlohmann::json c = read_config(dir, "LORA");
  const std::string file = (dir / "adapter_config.json").string();
  require_value(c, file, "bias", "none", "\"none\" (bias training is BitFit's job)");
  require_value(c, file, "use_dora", false, "false (no DoRA)");
  require_value(c, file, "lora_bias", false, "false");
  require_value(c, file, "rank_pattern", nlohmann::json::object(), "{} (one rank for every module)");
  require_value(c, file, "alpha_pattern", nlohmann::json::object(), "{} (one alpha for every module)");
  require_value(c, file, "layers_to_transform", nullptr, "null (every layer)");
  require_value(c, file, "target_parameters", nullptr, "null");
  LoraOptions o;
  o.r = number<int64_t>(c, file, "r", 8);
  PETL_CHECK(o.r > 0, file, ": \"r\" must be positive, found ", o.r);
  o.alpha = number<double>(c, file, "lora_alpha", 8.0);
  o.dropout = number<double>(c, file, "lora_dropout", 0.0);
  PETL_CHECK(o.dropout >= 0.0 && o.dropout < 1.0, file, ": \"lora_dropout\" must be in [0, 1), found ", o.dropout);
  o.use_rslora = boolean(c, file, "use_rslora", false);
  Generator init(0);  // every tensor is overwritten from the file
  auto lora = std::make_unique<Lora>(model, sites, string_list(c, file, "target_modules", true), o, init);
  read_tensors(dir, *lora);
  return lora;
}

void save_peft_ia3(const Ia3& ia3, const std::filesystem::path& dir, const PeftSaveInfo& info) {
  PETL_CHECK(ia3.output_blocks().size() == 1, "save_peft_ia3: the output-block (k, v only) form has no peft format");
  const bool fan_in_fan_out = !ia3.layers().empty() && ia3.layers()[0]->target.layout == nn::WeightLayout::InOut;
  nlohmann::json c = common_config("IA3", ia3.target_modules(), fan_in_fan_out, info);
  c["feedforward_modules"] = ia3.feedforward_modules();
  c["init_ia3_weights"] = true;
  write_adapter(dir, c, ia3);
}

std::unique_ptr<Ia3> load_peft_ia3(nn::Module& model, const nn::SiteMap& sites, const std::filesystem::path& dir) {
  const nlohmann::json c = read_config(dir, "IA3");
  const std::string file = (dir / "adapter_config.json").string();
  auto ia3 = std::make_unique<Ia3>(model, sites, string_list(c, file, "target_modules", true),
                                   string_list(c, file, "feedforward_modules", false));
  read_tensors(dir, *ia3);
  return ia3;
}

}  // namespace petl::peft

#include "train/tool/finetune_model.h"

#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"
#include "train/lib/train_state.h"

namespace petl::tool {

namespace fs = std::filesystem;

fs::path base_model_dir(const nlohmann::json& config) {
  const std::string model = config.value("model", std::string());
  return model.empty() ? repository_root() / "models" / "gpt2-petl-small" : fs::path(model);
}

FinetuneModel build_finetune_model(const nlohmann::json& config) {
  FinetuneModel fm;
  std::optional<double> dropout;
  if (config.contains("dropout") && config["dropout"].is_number()) dropout = config["dropout"].get<double>();
  fm.base = load_model_dir(base_model_dir(config), dropout);
  fm.base.model->set_trainable(true);
  const uint64_t seed = config.value("seed", uint64_t(0));
  fm.method = train::attach_method(config.value("method", std::string("prefix")),
                                   config.value("method-options", nlohmann::json::object()), *fm.base.model,
                                   seed + 0x9E3779B97F4A7C15ull);
  return fm;
}

FinetuneModel load_finetune_run(const fs::path& run, nlohmann::json* config_out) {
  const fs::path file = run / "config.json";
  PETL_CHECK(fs::exists(file), "run directory ", run.string(), " lacks config.json (not a `train finetune` run)");
  const nlohmann::json config = data::parse_json(data::read_text_file(file.string()), file.string());
  PETL_CHECK(config.is_object() && config.contains("method"), file.string(), ": not a finetune run config");
  FinetuneModel fm = build_finetune_model(config);
  const fs::path best = run / "best.safetensors", last = run / "checkpoint.safetensors";
  PETL_CHECK(fs::exists(best) || fs::exists(last), "run directory ", run.string(),
             " holds no trained tensors (best.safetensors or checkpoint.safetensors)");
  train::load_parameters(fs::exists(best) ? best : last, fm.method->trainable());
  if (config_out) *config_out = config;
  return fm;
}

}  // namespace petl::tool

// The model a fine-tuning run trains, rebuilt from its settings: the base model directory (with the
// run's dropout), the method attached with its options and seed. `finetune` builds it to train;
// `eval`, `generate` and `export` rebuild it from the run's config.json and load the trained
// tensors (best.safetensors, else checkpoint.safetensors).
#pragma once
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "train/lib/method.h"
#include "train/tool/model_io.h"

namespace petl::tool {

struct FinetuneModel {
  LoadedModel base;
  std::unique_ptr<train::AttachedMethod> method;
};

// config: a finetune run's settings ("model", "method", "method-options", "seed", optional "dropout").
FinetuneModel build_finetune_model(const nlohmann::json& config);
// The base model directory a config names ("" = the shipped small GPT-2 of the repository).
std::filesystem::path base_model_dir(const nlohmann::json& config);

// Reads run/config.json, rebuilds the model and loads the run's trained tensors.
FinetuneModel load_finetune_run(const std::filesystem::path& run, nlohmann::json* config_out = nullptr);

}  // namespace petl::tool

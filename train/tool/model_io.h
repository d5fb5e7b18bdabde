// A GPT-2 model directory in Hugging Face's layout, as `train` reads and writes it:
//   config.json, model.safetensors (or a sharded index), vocab.json + merges.txt (tokenizer).
// A missing file is an error naming the directory, the file and what the directory must hold.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>

#include "nn/gpt2.h"
#include "tokenizer/model_dir.h"

namespace petl::tool {

struct LoadedModel {
  std::unique_ptr<nn::Gpt2LMHead> model;
  std::shared_ptr<tokenizer::ModelTokenizer> tokenizer;
  std::filesystem::path dir;
};

// `dropout`, when given, replaces resid/embd/attn_pdrop of config.json for this run.
LoadedModel load_model_dir(const std::filesystem::path& dir, std::optional<double> dropout = std::nullopt);

// config.json + model.safetensors + the tokenizer files, each written atomically.
void save_model_dir(const nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tokenizer,
                    const std::filesystem::path& dir);

// The repository root: the nearest directory above the running executable (build/train) that holds
// CMakeLists.txt and train/tool/; else the current directory.
std::filesystem::path repository_root();

// Where the shared task data lives: $PETL_DATA_DIR, else <repository>/../shared/data.
std::string shared_data_dir();

}  // namespace petl::tool

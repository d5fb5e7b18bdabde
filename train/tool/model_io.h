// A GPT-2 or BART model directory in Hugging Face's layout, as `train` reads and writes it:
//   config.json, model.safetensors (or a sharded index), vocab.json + merges.txt (or tokenizer.json).
// config.json's "model_type" chooses the architecture: "gpt2" (also when the key is absent, as
// GPT-2 configs of old transformers versions) or "bart"; any other is an error naming the file and
// listing the supported types. A missing file is an error naming the directory, the file and what
// the directory must hold.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/bart.h"
#include "nn/gpt2.h"
#include "tokenizer/model_dir.h"

namespace petl::tool {

// The model types load_model_dir accepts, as config.json names them.
const std::vector<std::string>& supported_model_types();

// Exactly one of `model` (GPT-2, a causal LM) and `bart` (an encoder-decoder) is set.
struct LoadedModel {
  std::unique_ptr<nn::Gpt2LMHead> model;
  std::unique_ptr<nn::BartForConditionalGeneration> bart;
  std::shared_ptr<tokenizer::ModelTokenizer> tokenizer;
  std::filesystem::path dir;

  bool is_bart() const { return bart != nullptr; }
  nn::Module& module() { return bart ? static_cast<nn::Module&>(*bart) : *model; }
  const nn::Module& module() const { return bart ? static_cast<const nn::Module&>(*bart) : *model; }
  nn::StepModel& step_model() { return bart ? static_cast<nn::StepModel&>(*bart) : *model; }
  // The longest sequence a position table allows (GPT-2 n_positions; BART max_position_embeddings,
  // for the encoder and the decoder each).
  int64_t positions() const;
};

// `dropout`, when given, replaces resid/embd/attn_pdrop of a GPT-2 config.json, BART's `dropout`,
// for this run.
LoadedModel load_model_dir(const std::filesystem::path& dir, std::optional<double> dropout = std::nullopt);

// config.json + model.safetensors + the tokenizer files, each written atomically.
void save_model_dir(const nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tokenizer,
                    const std::filesystem::path& dir);
void save_model_dir(const nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tokenizer,
                    const std::filesystem::path& dir);
// Whichever model `loaded` holds.
void save_model_dir(const LoadedModel& loaded, const std::filesystem::path& dir);

// The repository root: the nearest directory above the running executable (build/train) that holds
// CMakeLists.txt and train/tool/; else the current directory.
std::filesystem::path repository_root();

// Where the shared task data lives: $PETL_DATA_DIR, else <repository>/../shared/data.
std::string shared_data_dir();

}  // namespace petl::tool

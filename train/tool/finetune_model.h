// The model a fine-tuning run trains, rebuilt from its settings: the base model directory (with the
// run's dropout), the method attached with its options and seed. `finetune` builds it to train;
// `eval`, `generate` and `export` rebuild it from the run's config.json and load the trained
// tensors (best.safetensors, else checkpoint.safetensors).
#pragma once
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "train/lib/method.h"
#include "nn/generation_config.h"
#include "train/lib/batching.h"
#include "train/tool/lm_data.h"
#include "train/tool/model_io.h"

namespace petl::tool {

struct FinetuneModel {
  LoadedModel base;
  std::unique_ptr<train::AttachedMethod> method;
};

// What differs between a causal LM (GPT-2) and an encoder-decoder (BART) in fine-tuning, in one place:
//   encode  GPT-2: lm_data.h's "source eos target eos" sequences; BART: seq2seq_data.h's pairs
//   loss    GPT-2: next-token loss over the target; BART: the decoder's loss over its labels
//   decode  GPT-2: lm_data.h's decode_inputs; BART: seq2seq_data.h's decode_seq2seq
// Both keep within the model's positions: a method's added rows (prompt tuning) take positions too.

// config: a finetune run's settings ("model", "method", "method-options", "seed", optional "dropout").
FinetuneModel build_finetune_model(const nlohmann::json& config);
// The base model directory a config names ("" = the shipped small GPT-2 of the repository).
std::filesystem::path base_model_dir(const nlohmann::json& config);

// The training sequences of `pairs`: pairs longer than `max_length` (GPT-2: the whole sequence;
// BART: the target) are left out and counted; BART's sources are cut to max_length. Either is at most
// the model's positions less the method's added rows.
EncodedPairs encode_task_pairs(const FinetuneModel& fm, const std::vector<std::pair<std::string, std::string>>& pairs,
                               int64_t max_length);
// The longest sequence a training example may have: min(requested, positions - added rows).
int64_t sequence_limit(const FinetuneModel& fm, int64_t requested);
// The mean loss of a batch (with a graph when gradients are on).
Tensor finetune_loss(FinetuneModel& fm, const train::Batch& batch);
// Decodes `inputs` with the model's decoding (one output per input).
std::vector<std::string> decode_task_inputs(FinetuneModel& fm, const std::vector<std::string>& inputs,
                                            const nn::GenerationConfig& request, int64_t batch_size,
                                            bool show_progress);

// Reads run/config.json, rebuilds the model and loads the run's trained tensors.
FinetuneModel load_finetune_run(const std::filesystem::path& run, nlohmann::json* config_out = nullptr);

}  // namespace petl::tool

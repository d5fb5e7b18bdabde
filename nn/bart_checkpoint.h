// BART model directories in Hugging Face's layout, in and out: config.json + model.safetensors
// (or a sharded index). Key names follow transformers' BartForConditionalGeneration:
//   - "model." prefix (files without it load too); the tied copies model.encoder.embed_tokens.weight,
//     model.decoder.embed_tokens.weight and lm_head.weight are accepted for model.shared.weight and
//     not written;
//   - final_logits_bias [1, V] is optional (zeros when absent) and written;
//   - nn.Linear weights are [out, in] in the file and in petl (read through a transposed view);
//   - F32, F16 and BF16 files load into float32 parameters.
#pragma once
#include <filesystem>
#include <memory>

#include "nn/bart.h"
#include "nn/state_dict.h"

namespace petl::nn {

KeyMap bart_key_map();
std::unique_ptr<BartForConditionalGeneration> load_bart(const std::filesystem::path& dir);
void save_bart(const BartForConditionalGeneration& model, const std::filesystem::path& dir);

}  // namespace petl::nn

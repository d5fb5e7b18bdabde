// Source -> target pairs as causal-LM sequences, the LoRA form of PEFT.md §19.2 (microsoft/LoRA
// examples/NLG gpt2_encode.py --add_bos --add_eos):
//
//   ids    = bpe(source) eos bpe(" " + target) eos
//   labels = -100 ... -100   bpe(" " + target) eos      (the loss reads the target and its eos)
//
// decoding starts from bpe(source) eos and stops at eos.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/generation_config.h"
#include "nn/gpt2.h"
#include "tokenizer/model_dir.h"
#include "train/lib/batching.h"

namespace petl::tool {

struct EncodedPairs {
  std::vector<train::Example> examples;
  int64_t dropped = 0;  // pairs longer than max_length (left out, and reported)
};
EncodedPairs encode_pairs(const tokenizer::ModelTokenizer& tok, const std::vector<std::pair<std::string, std::string>>& pairs,
                          int64_t eos, int64_t max_length);

std::vector<int64_t> encode_prompt(const tokenizer::ModelTokenizer& tok, const std::string& source, int64_t eos);

// Decodes every input (batches of `batch_size` left-padded prompts), returning the generated texts
// (up to the first eos, special tokens dropped, surrounding spaces trimmed). `added_positions`: rows a
// method puts in front of the tokens (prompt tuning), which take positions too.
std::vector<std::string> decode_inputs(nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tok,
                                       const std::vector<std::string>& inputs, const nn::GenerationConfig& request,
                                       int64_t batch_size, bool show_progress, int64_t added_positions = 0);

}  // namespace petl::tool

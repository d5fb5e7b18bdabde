// Source -> target pairs for an encoder-decoder model (BART), framed as transformers' seq2seq
// fine-tuning frames them (run_summarization.py: tokenizer(source), tokenizer(text_target=target)):
//
//   encoder ids     = <s> bpe(source) </s>           cut to max_source tokens, </s> kept last
//   decoder labels  = <s> bpe(target) </s>           (the loss reads every one of them)
//   decoder inputs  = </s> <s> bpe(target)           shift_tokens_right(labels), built by the model
//
// A pair whose labels are longer than max_target is left out and counted (as encode_pairs does for
// GPT-2). Decoding feeds the encoder ids (padded on the right, masked) to nn::generate, which starts
// the decoder from decoder_start_token_id; the output is the generated tokens up to the first </s>,
// special tokens dropped.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/bart.h"
#include "nn/generation_config.h"
#include "tokenizer/model_dir.h"
#include "train/tool/lm_data.h"

namespace petl::tool {

// The encoder ids of `source`, cut to `max_source` tokens (the last one stays </s>); `cut` counts it.
std::vector<int64_t> encode_seq2seq_source(const tokenizer::ModelTokenizer& tok, const std::string& source,
                                           int64_t max_source, int64_t* cut = nullptr);

EncodedPairs encode_seq2seq_pairs(const tokenizer::ModelTokenizer& tok,
                                  const std::vector<std::pair<std::string, std::string>>& pairs, int64_t max_source,
                                  int64_t max_target);

// Decodes every input in batches of `batch_size`. `max_source` caps the encoder ids (the model's
// positions less any prompt rows); max_new_tokens is capped so the decoder stays within its positions
// (less the decoder position shift a BART prefix sets). `model_defaults`: the model directory's
// generation_config.json (nn::load_generation_config).
std::vector<std::string> decode_seq2seq(nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tok,
                                        const std::vector<std::string>& inputs, const nn::GenerationConfig& request,
                                        const nn::GenerationConfig& model_defaults, int64_t batch_size,
                                        bool show_progress, int64_t max_source);

}  // namespace petl::tool

// Generation with prefix or prompt tuning numbered the way Hugging Face peft's generate() numbers it
// (peft 0.21 PeftModelForCausalLM.prepare_inputs_for_generation with transformers 5.23; checked
// against its output ids in tests/test_peft_generation.cpp, docs/peft/generation.md).
//
//   prefix tuning: the P rows are a past of every prompt, so a prompt's real tokens take positions
//                  P + (number of real tokens before them), and each new token the next one.
//   prompt tuning: peft drops transformers' position ids, GPT-2 falls back to its cache positions,
//                  and every row of [prompt; padded prompt; new tokens] takes 0, 1, 2, ... padding
//                  included (a left-padded prompt's tokens sit further right than they would alone).
//
// BART needs nothing here: peft's BART prefix already shifts the decoder's positions by P when it
// attaches (peft/bart_prefix.h) and BART's prompt rows only reach the encoder, which runs once.
#pragma once
#include "nn/gpt2.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"

namespace petl::peft {

// Sets model's decoding positions for `prefix` (attached to it) as peft's generate() gives them.
void decode_like_peft(nn::Gpt2LMHead& model, const PrefixTuning& prefix);
// The same for `prompt`.
void decode_like_peft(nn::Gpt2LMHead& model, const PromptTuning& prompt);

}  // namespace petl::peft

// Beam search exactly as transformers 5.23 runs it (GenerationMixin._beam_search, num_beams > 1,
// do_sample false). See docs/generation.md for the algorithm walked step by step.
#pragma once
#include "nn/generation_config.h"
#include "nn/step_model.h"
#include "nn/token_tables.h"

namespace petl::nn {

// `prompts` are the starting sequences (GPT-2: the left-padded input_ids; BART: the decoder start
// token), one row per prompt; `model.start` has already been called for these rows and returned
// `first_logits` [B, V]. Returns num_return_sequences rows per prompt, best first, each the prompt
// followed by its tokens, filled on the right as transformers fills them.
TokenTable beam_search(StepModel& model, const TokenTable& prompts, const Tensor& first_logits,
                       const GenerationPlan& plan);

}  // namespace petl::nn

// Greedy decoding and multinomial sampling: one token per row per step, as transformers 5.23 runs
// them (GenerationMixin._sample with do_sample false / true).
#pragma once
#include "nn/generation_config.h"
#include "nn/step_model.h"
#include "nn/token_tables.h"
#include "tensor/random.h"

namespace petl::nn {

// `prompts` are the starting sequences, one per model row; `model.start` has been called for these
// rows and returned `first_logits` [rows, V]. Each row extends its prompt by the argmax of the
// processed scores (or a draw from their softmax when plan.do_sample) until it emits EOS (later
// steps append pad) or max_length is reached. Sampling reads `gen`; the same seed gives the same
// tokens.
TokenTable greedy_or_sample(StepModel& model, const TokenTable& prompts, const Tensor& first_logits,
                            const GenerationPlan& plan, Generator& gen);

// Index of the draw `uniform` (in (0, 1)) from the categorical distribution softmax(scores); -inf
// scores have probability 0.
int64_t draw_token(std::span<const float> scores, double uniform);

}  // namespace petl::nn

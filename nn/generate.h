// Text generation over any StepModel: greedy search, beam search and sampling with the semantics
// of transformers 5.23's `model.generate(...)` (docs/generation.md).
//
//   GenerationConfig request;  request.num_beams = 4;  request.max_new_tokens = 20;
//   Tensor ids = generate(model, input_ids, attention_mask, request, load_generation_config(dir));
#pragma once
#include "nn/generation_config.h"
#include "nn/step_model.h"
#include "tensor/random.h"

namespace petl::nn {

// input_ids / attention_mask: int64 [B, T]. Decoder-only models take left-padded prompts (mask 0 on
// the left); encoder-decoder models take the encoder inputs. Returns int64 [B * num_return_sequences,
// L] as transformers returns `sequences`: the prompt (GPT-2) or the decoder start token (BART),
// then the generated tokens, rows that ended early filled on the right (pad, or EOS when the model
// has no pad). `model_defaults` are the model directory's (load_generation_config); `gen` seeds
// sampling.
Tensor generate(StepModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                const GenerationConfig& request, const GenerationConfig& model_defaults = {},
                Generator& gen = default_generator());

}  // namespace petl::nn

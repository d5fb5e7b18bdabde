// The seam between the models and text generation. Generation (greedy, beam search, sampling) drives
// any model that can score one more token per row while keeping its own key/value cache; GPT-2 and
// BART implement this interface, so the decoding algorithms never look inside a model.
//
//   logits = model.start(prompts, mask)        // [B, V]: scores of each row's first new token
//   loop:  pick tokens [B] from logits (argmax, beams, samples)
//          model.select_rows(index)            // beam search: keep/duplicate rows of the cache
//          logits = model.next(tokens)         // [B, V]: scores of the token after `tokens`
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace petl::nn {

class StepModel {
 public:
  virtual ~StepModel() = default;

  // Starts decoding a batch of B rows; returns float32 logits [B, V] for each row's first new token.
  // Decoder-only (GPT-2): input_ids [B, T] (int64) are the prompts, left-padded; attention_mask
  //   [B, T] is 1 for a token and 0 for padding. Positions count real tokens only
  //   (cumsum(mask) - 1, as transformers does), so a padded row scores exactly as it would alone.
  // Encoder-decoder (BART): input_ids [B, S] are the encoder inputs with their padding mask; the
  //   decoder begins from decoder_start_token_id() alone, and the returned logits are for the token
  //   after it.
  virtual Tensor start(const Tensor& input_ids, const Tensor& attention_mask) = 0;

  // Appends one token per row (int64 [B]) to every row's sequence; returns logits [B, V] for the next.
  virtual Tensor next(const Tensor& tokens) = 0;

  // Row i of the new state is row index[i] of the current one (int64 [B']). Beam search uses it to
  // reorder beams and to expand each prompt into num_beams rows (index = [0,0,0,1,1,1,...]).
  virtual void select_rows(const Tensor& index) = 0;

  virtual int64_t vocab_size() const = 0;
  // Special tokens as the model's config.json gives them; -1 where the config has none.
  virtual int64_t eos_token_id() const = 0;
  virtual int64_t pad_token_id() const = 0;
  virtual int64_t decoder_start_token_id() const = 0;  // -1 for decoder-only models
};

}  // namespace petl::nn

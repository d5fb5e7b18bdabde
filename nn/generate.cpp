#include "nn/generate.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/beam_search.h"
#include "nn/greedy_search.h"

namespace petl::nn {
namespace {

void check_inputs(const Tensor& input_ids, const Tensor& attention_mask) {
  PETL_CHECK(input_ids.defined() && input_ids.dim() == 2 && input_ids.dtype() == DType::I64,
             "generate: input_ids must be int64 [batch, length], found ",
             input_ids.defined() ? dtype_name(input_ids.dtype()) : "undefined", " ",
             input_ids.defined() ? shape_str(input_ids.shape()) : "");
  PETL_CHECK(input_ids.size(0) > 0 && input_ids.size(1) > 0, "generate: input_ids is empty ", shape_str(input_ids.shape()));
  PETL_CHECK(attention_mask.defined() && attention_mask.shape() == input_ids.shape() &&
                 attention_mask.dtype() == DType::I64,
             "generate: attention_mask must be int64 with the shape of input_ids ", shape_str(input_ids.shape()), ", found ",
             attention_mask.defined() ? dtype_name(attention_mask.dtype()) : "undefined", " ",
             attention_mask.defined() ? shape_str(attention_mask.shape()) : "");
  const TokenTable mask = TokenTable::from_tensor(attention_mask);
  for (int64_t r = 0; r < mask.rows; ++r) {
    bool any_token = false;
    for (int64_t c = 0; c < mask.length; ++c) {
      PETL_CHECK(mask.at(r, c) == 0 || mask.at(r, c) == 1, "generate: attention_mask[", r, ", ", c, "] is ",
                 mask.at(r, c), ", expected 0 or 1");
      any_token = any_token || mask.at(r, c) == 1;
    }
    PETL_CHECK(any_token, "generate: row ", r, " of attention_mask has no token (all 0)");
  }
}

// Row r of the result is row index[r] of `rows`.
Tensor take_rows(const Tensor& rows, const std::vector<int64_t>& index) {
  std::vector<Tensor> picked;
  for (const int64_t r : index) picked.push_back(slice(rows, 0, r, r + 1));
  return concat(picked, 0);
}

}  // namespace

Tensor generate(StepModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                const GenerationConfig& request, const GenerationConfig& model_defaults, Generator& gen) {
  check_inputs(input_ids, attention_mask);
  NoGradGuard no_grad;
  const bool encoder_decoder = model.decoder_start_token_id() >= 0;
  const int64_t B = input_ids.size(0);

  // The decoder's starting sequences, transformers' `input_ids` inside generate.
  TokenTable prompts;
  if (encoder_decoder) {
    prompts = TokenTable{B, 1, std::vector<int64_t>(size_t(B), model.decoder_start_token_id())};
  } else {
    prompts = TokenTable::from_tensor(input_ids);
  }
  const GenerationPlan plan = plan_generation(request, model_defaults, model, prompts.length);
  for (const int64_t id : TokenTable::from_tensor(input_ids).ids)
    PETL_CHECK(id >= 0 && id < plan.vocab_size, "generate: input_ids holds ", id, ", outside the vocabulary [0, ",
               plan.vocab_size, ")");

  Tensor first_logits = model.start(input_ids, attention_mask);
  PETL_CHECK(first_logits.shape() == Shape({B, plan.vocab_size}) && first_logits.dtype() == DType::F32,
             "generate: the model's start() returned ", dtype_name(first_logits.dtype()), " ", shape_str(first_logits.shape()),
             ", expected float32 [", B, ", ", plan.vocab_size, "]");
  if (plan.num_beams > 1) return beam_search(model, prompts, first_logits, plan).to_tensor();

  // Greedy or sampling with num_return_sequences > 1: each prompt becomes that many rows.
  if (plan.num_return_sequences > 1) {
    std::vector<int64_t> index;
    TokenTable expanded{B * plan.num_return_sequences, prompts.length, {}};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < plan.num_return_sequences; ++k) {
        index.push_back(b);
        expanded.ids.insert(expanded.ids.end(), prompts.row(b).begin(), prompts.row(b).end());
      }
    model.select_rows(from_vector(index, {int64_t(index.size())}));
    first_logits = take_rows(first_logits, index);
    prompts = std::move(expanded);
  }
  return greedy_or_sample(model, prompts, first_logits, plan, gen).to_tensor();
}

}  // namespace petl::nn

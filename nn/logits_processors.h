// The score edits transformers applies before each token is chosen (generation/logits_process.py),
// one function each, and the two pipelines that run them in transformers' order
// (GenerationMixin._get_logits_processor). `sequences` holds every row's tokens so far (prompt and
// its padding included, as transformers' input_ids); `scores` has one row per sequence. Banned
// tokens get -inf.
#pragma once
#include "nn/generation_config.h"
#include "nn/token_tables.h"

namespace petl::nn {

// NoRepeatNGramLogitsProcessor: a token that would complete an n-gram already present in the row
// (anywhere, prompt included) is banned.
void ban_repeated_ngrams(const TokenTable& sequences, ScoreTable& scores, int64_t ngram_size);

// MinLengthLogitsProcessor: EOS is banned while the row is shorter than min_length.
void ban_eos_before_min_length(const TokenTable& sequences, ScoreTable& scores, int64_t min_length,
                               const std::vector<int64_t>& eos_token_ids);

// ForcedBOSTokenLogitsProcessor / ForcedEOSTokenLogitsProcessor: at the given length every score
// becomes -inf except the forced tokens, which become 0.
void force_tokens_at_length(const TokenTable& sequences, ScoreTable& scores, int64_t at_length,
                            const std::vector<int64_t>& forced);

// TemperatureLogitsWarper: scores / temperature.
void divide_by_temperature(ScoreTable& scores, double temperature);
// TopKLogitsWarper: scores below the k-th largest become -inf (ties with it are kept).
void keep_top_k(ScoreTable& scores, int64_t top_k);
// TopPLogitsWarper: sorted ascending, tokens whose cumulative probability is <= 1 - top_p become
// -inf; the most likely token is always kept.
void keep_top_p(ScoreTable& scores, double top_p);

// Every processor the plan switches on, in transformers' order: no_repeat_ngram, min_length,
// forced_bos, forced_eos.
void apply_logits_processors(const GenerationPlan& plan, const TokenTable& sequences, ScoreTable& scores);
// The sampling warpers, in transformers' order: temperature, top_k, top_p.
void apply_sampling_warpers(const GenerationPlan& plan, ScoreTable& scores);

}  // namespace petl::nn

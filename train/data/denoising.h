// BART's denoising noise (Lewis et al. 2020, "BART: Denoising Sequence-to-Sequence Pre-training",
// §2.2 and §3; the bart-large recipe combines the two below): a pure function of (tokens, seed).
//
//   sentence permutation: the tokens are cut after every sentence end -- a token the caller marks
//     as ending a sentence (". ! ?"), with the run of end and closing tokens (a closing quote or
//     bracket: '!' '"' -> one end) that follows it -- and the pieces are shuffled uniformly
//     (Fisher-Yates). The last piece need not end with a sentence end.
//   text infilling: m = ceil(mask_ratio · n) of the n tokens are masked. Span lengths
//     L_1, L_2, ... ~ Poisson(λ) are drawn until Σ L_i >= m; the last one is cut so that Σ L_i = m.
//     Each span becomes ONE mask token, so the model must also predict how many tokens are missing;
//     a span of length 0 inserts a mask between two tokens. The spans go to uniformly random
//     places among the kept tokens (two spans may be adjacent, giving two masks in a row), so
//     exactly m tokens disappear and every drawn length survives unchanged.
//   The noised sequence is never longer than the input: n - m + k for k spans, so when a draw
//   gives more spans than masked tokens (k > m: only in blocks of a few tokens, where length-0
//   draws pile up), the length-0 spans drawn last are dropped until k = m.
//
// The caller frames the result: BART's encoder reads <s> noise(body) </s>, its decoder predicts
// the original <s> body </s> (train/tool/bart_pretrain.h).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace petl::data {

struct DenoisingOptions {
  double mask_ratio = 0.3;      // the paper's 30% of tokens
  double poisson_lambda = 3.0;  // the paper's λ = 3
  bool permute_sentences = true;
  int64_t mask_id = -1;         // the <mask> token (required, >= 0)
};

// Which token ids end a sentence, and which only close one (quotes, brackets: they stay with the
// end before them, and end nothing on their own). Ids beyond a table's size are neither.
struct SentenceTokens {
  std::vector<bool> ends, closers;
};

struct NoisedTokens {
  std::vector<int64_t> tokens;        // the encoder's input (before framing)
  std::vector<int64_t> span_lengths;  // the infilled spans in output order (0: an inserted mask)
  int64_t masked = 0;                 // tokens removed by the spans (= Σ span_lengths = m)
};

// The pieces between sentence ends, shuffled. The result is a permutation of the input tokens.
std::vector<int64_t> permute_sentences(std::span<const int64_t> tokens, const SentenceTokens& sentences, uint64_t seed);

// Text infilling of `tokens` as described above. Options are checked (mask_ratio in [0, 1],
// 0 < λ <= 50, mask_id >= 0): a petl::Error otherwise.
NoisedTokens infill_spans(std::span<const int64_t> tokens, const DenoisingOptions& options, uint64_t seed);

// Both, in the paper's order: permute the sentences (when options.permute_sentences), then infill.
NoisedTokens add_denoising_noise(std::span<const int64_t> tokens, const SentenceTokens& sentences,
                                 const DenoisingOptions& options, uint64_t seed);

// One Poisson(λ) draw from the counter-based generator at (seed, *counter) (Knuth's product of
// uniforms, fine for small λ); advances *counter by the uniforms used.
int64_t poisson_draw(double lambda, uint64_t seed, uint64_t* counter);

}  // namespace petl::data

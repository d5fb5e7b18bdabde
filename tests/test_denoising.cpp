// BART's denoising noise (train/data/denoising.h): text infilling masks ceil(30%) of the tokens in
// Poisson(3) spans, one <mask> per span, and the output decodes back to the input; sentence
// permutation shuffles whole sentences; both are functions of the seed alone.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tensor/error.h"
#include "train/data/denoising.h"

using namespace petl::data;

namespace {

constexpr int64_t kMask = 1 << 20;

DenoisingOptions options() {
  DenoisingOptions o;
  o.mask_id = kMask;
  return o;
}

std::vector<int64_t> iota_tokens(int64_t n) {
  std::vector<int64_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), 1);  // 1 .. n, never the mask id
  return t;
}

// Walks the output with the span lengths: kept tokens must be the input's, in order, and the spans
// must cover exactly the tokens left out. Returns false at the first mismatch.
bool reconstructs(const std::vector<int64_t>& input, const NoisedTokens& noised) {
  size_t pos = 0, span = 0;
  for (int64_t token : noised.tokens) {
    if (token == kMask) {
      if (span >= noised.span_lengths.size()) return false;
      pos += size_t(noised.span_lengths[span++]);
    } else {
      if (pos >= input.size() || input[pos] != token) return false;
      ++pos;
    }
  }
  return pos == input.size() && span == noised.span_lengths.size();
}

}  // namespace

TEST_CASE("denoising: text infilling masks ceil(30%) of the tokens, one <mask> per span, and nothing else changes") {
  for (int64_t n : {2, 3, 10, 37, 126, 1000}) {
    const auto input = iota_tokens(n);
    for (uint64_t seed = 0; seed < 50; ++seed) {
      INFO("n = " << n << ", seed " << seed);
      const NoisedTokens out = infill_spans(input, options(), seed);
      const int64_t m = int64_t(std::ceil(0.3 * double(n) - 1e-9));
      CHECK(out.masked == m);
      CHECK(std::accumulate(out.span_lengths.begin(), out.span_lengths.end(), int64_t(0)) == m);
      CHECK(std::count(out.tokens.begin(), out.tokens.end(), kMask) == int64_t(out.span_lengths.size()));
      CHECK(int64_t(out.tokens.size()) == n - m + int64_t(out.span_lengths.size()));
      CHECK(out.tokens.size() <= input.size());
      CHECK(reconstructs(input, out));
    }
  }
  // 0.3 · 10 is 3.0000000000000004 in floating point: still 3 tokens, not 4.
  CHECK(infill_spans(iota_tokens(10), options(), 7).masked == 3);
}

TEST_CASE("denoising: span lengths are Poisson(3): mean and variance 3, P(0) = e^-3") {
  // The draws themselves (Knuth's method on the counter-based generator).
  uint64_t counter = 0;
  const int draws = 100000;
  double sum = 0, sum_sq = 0;
  int zeros = 0;
  for (int i = 0; i < draws; ++i) {
    const double k = double(poisson_draw(3.0, 12345, &counter));
    sum += k;
    sum_sq += k * k;
    zeros += k == 0;
  }
  const double mean = sum / draws, variance = sum_sq / draws - mean * mean;
  // Standard errors at n = 1e5: mean 0.0055, variance 0.0145, P(0) 0.0007; bounds are ~5 of them.
  CHECK(mean == doctest::Approx(3.0).epsilon(0.03 / 3));
  CHECK(variance == doctest::Approx(3.0).epsilon(0.08 / 3));
  CHECK(double(zeros) / draws == doctest::Approx(std::exp(-3.0)).epsilon(0.004 / std::exp(-3.0)));

  // The spans of many blocks: the only bias is the one span per block cut to fit m exactly
  // (~1 in 100 spans at n = 1000), which lowers the mean by about 0.02.
  const auto input = iota_tokens(1000);
  double span_sum = 0;
  int64_t spans = 0, zero_spans = 0;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    const NoisedTokens out = infill_spans(input, options(), seed);
    for (int64_t length : out.span_lengths) {
      span_sum += double(length);
      zero_spans += length == 0;
    }
    spans += int64_t(out.span_lengths.size());
  }
  const double span_mean = span_sum / double(spans);
  MESSAGE("mean span length over " << spans << " spans: " << span_mean << ", length 0: " << zero_spans);
  CHECK(span_mean > 2.93);
  CHECK(span_mean < 3.02);
  CHECK(zero_spans > 0);  // length-0 spans do occur and insert a mask
}

TEST_CASE("denoising: the same seed gives the same noise, another seed other noise") {
  std::vector<int64_t> input = iota_tokens(120);
  SentenceTokens sentences{std::vector<bool>(200, false), {}};
  for (int64_t i = 10; i < 120; i += 13) input[size_t(i)] = 150;  // a sentence end every 13 tokens
  sentences.ends[150] = true;
  const NoisedTokens a = add_denoising_noise(input, sentences, options(), 42);
  const NoisedTokens b = add_denoising_noise(input, sentences, options(), 42);
  const NoisedTokens c = add_denoising_noise(input, sentences, options(), 43);
  CHECK(a.tokens == b.tokens);
  CHECK(a.span_lengths == b.span_lengths);
  CHECK(a.tokens != c.tokens);
}

TEST_CASE("denoising: sentence permutation shuffles whole sentences and keeps each exactly once") {
  // Sentences of distinct tokens (each starts with its own id); 98 and 99 end sentences, 97 closes
  // one (a closing quote). A run "98 99" ends one sentence, not two; "99 97" keeps the closer with
  // its sentence; a closer after an ordinary token ("82 97") ends nothing. The last piece has no
  // sentence end.
  const std::vector<std::vector<int64_t>> sentences = {
      {11, 12, 99},     {21, 22, 23, 99}, {31, 98, 99},     {41, 99, 97}, {51, 52, 53, 54, 98},
      {61, 62, 99, 97, 97}, {81, 82, 97, 83, 98, 97}, {71, 72}};
  std::vector<int64_t> input;
  for (const auto& s : sentences) input.insert(input.end(), s.begin(), s.end());
  SentenceTokens marks{std::vector<bool>(100, false), std::vector<bool>(100, false)};
  marks.ends[98] = marks.ends[99] = true;
  marks.closers[97] = true;

  int moved = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    INFO("seed " << seed);
    const std::vector<int64_t> out = permute_sentences(input, marks, seed);
    REQUIRE(out.size() == input.size());
    // Parse the output back into the sentences: each must appear once, whole.
    std::vector<bool> used(sentences.size(), false);
    size_t pos = 0;
    while (pos < out.size()) {
      const auto it = std::find_if(sentences.begin(), sentences.end(), [&](const auto& s) { return s[0] == out[pos]; });
      REQUIRE(it != sentences.end());
      const size_t which = size_t(it - sentences.begin());
      CHECK_FALSE(used[which]);
      used[which] = true;
      REQUIRE(pos + it->size() <= out.size());
      CHECK(std::equal(it->begin(), it->end(), out.begin() + std::ptrdiff_t(pos)));
      pos += it->size();
    }
    CHECK(std::all_of(used.begin(), used.end(), [](bool u) { return u; }));
    moved += out != input;
  }
  CHECK(moved >= 39);  // 8 pieces: the identity has probability 1/40320 per seed
}

TEST_CASE("denoising: edge cases: an empty block, one token, no sentence end, ratio 0 and 1") {
  const SentenceTokens none{std::vector<bool>(100, false), std::vector<bool>(100, false)};
  const NoisedTokens empty = add_denoising_noise(std::vector<int64_t>{}, none, options(), 1);
  CHECK(empty.tokens.empty());
  CHECK(empty.span_lengths.empty());
  CHECK(empty.masked == 0);

  // One token: ceil(0.3) = 1 token masked, as one span (never more masks than masked tokens).
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const NoisedTokens one = add_denoising_noise(std::vector<int64_t>{7}, none, options(), seed);
    CHECK(one.tokens == std::vector<int64_t>{kMask});
    CHECK(one.span_lengths == std::vector<int64_t>{1});
  }
  // Short blocks, where length-0 draws could outnumber the masked tokens: never longer than the input.
  for (int64_t n = 1; n <= 8; ++n)
    for (uint64_t seed = 0; seed < 200; ++seed) {
      const auto input = iota_tokens(n);
      const NoisedTokens out = infill_spans(input, options(), seed);
      CHECK(out.tokens.size() <= input.size());
      CHECK(reconstructs(input, out));
    }

  // No sentence end: permutation leaves the block as it is; all sentence ends: one run, one piece.
  const auto tokens = iota_tokens(30);
  CHECK(permute_sentences(tokens, none, 3) == tokens);
  const SentenceTokens all_end{std::vector<bool>(100, true), {}};
  CHECK(permute_sentences(tokens, all_end, 3) == tokens);
  // Only closers: they end nothing without an end before them.
  const SentenceTokens all_closers{{}, std::vector<bool>(100, true)};
  CHECK(permute_sentences(tokens, all_closers, 3) == tokens);
  // Empty tables (ids past a table's end are neither).
  CHECK(permute_sentences(tokens, SentenceTokens{}, 3) == tokens);

  DenoisingOptions o = options();
  o.mask_ratio = 0;
  CHECK(infill_spans(tokens, o, 5).tokens == tokens);
  o.mask_ratio = 1;
  const NoisedTokens all = infill_spans(tokens, o, 5);
  CHECK(all.masked == 30);
  CHECK(std::all_of(all.tokens.begin(), all.tokens.end(), [](int64_t t) { return t == kMask; }));
  CHECK(reconstructs(tokens, all));
}

TEST_CASE("denoising: invalid options are an error naming the option") {
  const std::vector<int64_t> tokens = iota_tokens(10);
  DenoisingOptions o = options();
  o.mask_id = -1;
  CHECK_THROWS_WITH_AS(infill_spans(tokens, o, 0), doctest::Contains("no <mask> token id"), petl::Error);
  o = options();
  o.mask_ratio = 1.5;
  CHECK_THROWS_WITH_AS(infill_spans(tokens, o, 0), doctest::Contains("mask ratio 1.5 is outside [0, 1]"), petl::Error);
  o = options();
  o.poisson_lambda = 0;
  CHECK_THROWS_WITH_AS(add_denoising_noise(tokens, SentenceTokens{}, o, 0), doctest::Contains("Poisson lambda 0 is outside"),
                       petl::Error);
}

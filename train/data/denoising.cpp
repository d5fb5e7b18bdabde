#include "train/data/denoising.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/random.h"

namespace petl::data {
namespace {

// Independent streams of one seed: the permutation's and the infilling's draws never overlap.
constexpr uint64_t kPermuteStream = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kInfillStream = 0xD1B54A32D192ED03ull;
constexpr uint64_t kPlacementStream = 0x8CB92BA72F3D8DD7ull;

// Fisher-Yates over `items` with the counter-based generator keyed by `key` (tensor/random.h).
template <class T>
void shuffle(std::vector<T>& items, uint64_t key) {
  for (size_t i = items.size(); i > 1; --i) {
    const uint64_t j = random_bits(key, i) % i;
    std::swap(items[i - 1], items[j]);
  }
}

void check_options(const DenoisingOptions& options) {
  PETL_CHECK(options.mask_ratio >= 0 && options.mask_ratio <= 1, "denoising: mask ratio ", options.mask_ratio,
             " is outside [0, 1]");
  PETL_CHECK(options.poisson_lambda > 0 && options.poisson_lambda <= 50, "denoising: Poisson lambda ",
             options.poisson_lambda, " is outside (0, 50]");
  PETL_CHECK(options.mask_id >= 0, "denoising: no <mask> token id (got ", options.mask_id, ")");
}

bool marked(int64_t id, const std::vector<bool>& table) {
  return id >= 0 && size_t(id) < table.size() && table[size_t(id)];
}

}  // namespace

int64_t poisson_draw(double lambda, uint64_t seed, uint64_t* counter) {
  // Knuth: the number of uniforms u_1 u_2 ... whose running product stays above e^-λ.
  const double limit = std::exp(-lambda);
  int64_t k = 0;
  double product = random_uniform(seed, (*counter)++);
  while (product > limit) {
    ++k;
    product *= random_uniform(seed, (*counter)++);
  }
  return k;
}

std::vector<int64_t> permute_sentences(std::span<const int64_t> tokens, const SentenceTokens& sentences, uint64_t seed) {
  // A piece ends after an end token and the end and closer tokens right after it.
  std::vector<std::span<const int64_t>> pieces;
  size_t start = 0;
  bool in_end = false;  // tokens[i] belongs to a run that began with an end token
  for (size_t i = 0; i < tokens.size(); ++i) {
    in_end = marked(tokens[i], sentences.ends) || (in_end && marked(tokens[i], sentences.closers));
    const bool run_goes_on = i + 1 < tokens.size() && (marked(tokens[i + 1], sentences.ends) ||
                                                       marked(tokens[i + 1], sentences.closers));
    if (in_end && !run_goes_on) {
      pieces.push_back(tokens.subspan(start, i + 1 - start));
      start = i + 1;
    }
  }
  if (start < tokens.size()) pieces.push_back(tokens.subspan(start));
  shuffle(pieces, mix64(seed ^ kPermuteStream));
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (const auto& piece : pieces) out.insert(out.end(), piece.begin(), piece.end());
  return out;
}

NoisedTokens infill_spans(std::span<const int64_t> tokens, const DenoisingOptions& options, uint64_t seed) {
  check_options(options);
  const uint64_t key = mix64(seed ^ kInfillStream);
  uint64_t counter = 0;
  const int64_t n = int64_t(tokens.size());
  // m = ceil(ratio · n) (the 1e-9 keeps 0.3 · 10 = 3.0000000000000004 at 3).
  const int64_t m = std::min(n, int64_t(std::ceil(options.mask_ratio * double(n) - 1e-9)));

  std::vector<int64_t> spans;
  for (int64_t total = 0; total < m;) {
    const int64_t length = std::min(poisson_draw(options.poisson_lambda, key, &counter), m - total);
    spans.push_back(length);
    total += length;
  }
  // At most m spans, so the output is never longer than the input (every nonzero span has >= 1
  // token, so a length-0 span is always there to drop while k > m).
  while (int64_t(spans.size()) > m) spans.erase(std::find(spans.rbegin(), spans.rend(), 0).base() - 1);

  // Slots: n - m kept tokens and k spans in a uniformly random arrangement.
  const size_t k = spans.size();
  std::vector<char> is_span(size_t(n - m) + k, 0);
  std::fill(is_span.begin(), is_span.begin() + std::ptrdiff_t(k), 1);
  shuffle(is_span, mix64(key ^ kPlacementStream));

  NoisedTokens out;
  out.tokens.reserve(is_span.size());
  size_t pos = 0, next_span = 0;
  for (const char slot : is_span) {
    if (slot) {
      out.tokens.push_back(options.mask_id);
      out.span_lengths.push_back(spans[next_span]);
      pos += size_t(spans[next_span++]);
    } else {
      out.tokens.push_back(tokens[pos++]);
    }
  }
  out.masked = m;
  return out;
}

NoisedTokens add_denoising_noise(std::span<const int64_t> tokens, const SentenceTokens& sentences,
                                 const DenoisingOptions& options, uint64_t seed) {
  check_options(options);
  if (!options.permute_sentences) return infill_spans(tokens, options, seed);
  const std::vector<int64_t> permuted = permute_sentences(tokens, sentences, seed);
  return infill_spans(permuted, options, seed);
}

}  // namespace petl::data

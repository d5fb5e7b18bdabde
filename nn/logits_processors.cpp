#include "nn/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace petl::nn {
namespace {
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
}

void ban_repeated_ngrams(const TokenTable& sequences, ScoreTable& scores, int64_t n) {
  const int64_t len = sequences.length;
  if (n <= 0 || len < n) return;  // no complete n-gram yet
  for (int64_t r = 0; r < sequences.rows; ++r) {
    const auto tokens = sequences.row(r);
    const auto prefix = tokens.subspan(size_t(len - (n - 1)));  // the last n-1 tokens
    // Window [i, i+n) whose first n-1 tokens equal the prefix: its last token would repeat it.
    for (int64_t i = 0; i + n <= len; ++i) {
      if (std::equal(prefix.begin(), prefix.end(), tokens.begin() + i)) {
        const int64_t banned = tokens[size_t(i + n - 1)];
        if (banned >= 0 && banned < scores.vocab) scores.row(r)[size_t(banned)] = kMinusInf;
      }
    }
  }
}

void ban_eos_before_min_length(const TokenTable& sequences, ScoreTable& scores, int64_t min_length,
                               const std::vector<int64_t>& eos_token_ids) {
  if (sequences.length >= min_length) return;
  for (int64_t r = 0; r < scores.rows; ++r)
    for (const int64_t eos : eos_token_ids) scores.row(r)[size_t(eos)] = kMinusInf;
}

void force_tokens_at_length(const TokenTable& sequences, ScoreTable& scores, int64_t at_length,
                            const std::vector<int64_t>& forced) {
  if (sequences.length != at_length) return;
  for (int64_t r = 0; r < scores.rows; ++r) {
    std::fill(scores.row(r).begin(), scores.row(r).end(), kMinusInf);
    for (const int64_t id : forced) scores.row(r)[size_t(id)] = 0.0f;
  }
}

void divide_by_temperature(ScoreTable& scores, double temperature) {
  const float t = float(temperature);
  for (float& s : scores.values) s = s / t;
}

void keep_top_k(ScoreTable& scores, int64_t top_k) {
  const int64_t k = std::min(std::max<int64_t>(top_k, 1), scores.vocab);
  std::vector<float> sorted(size_t(scores.vocab));
  for (int64_t r = 0; r < scores.rows; ++r) {
    auto row = scores.row(r);
    std::copy(row.begin(), row.end(), sorted.begin());
    std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
    const float kth = sorted[size_t(k - 1)];
    for (float& s : row)
      if (s < kth) s = kMinusInf;
  }
}

void keep_top_p(ScoreTable& scores, double top_p) {
  const float threshold = float(1.0 - top_p);
  std::vector<int64_t> order(size_t(scores.vocab));
  std::vector<float> probs(size_t(scores.vocab));
  for (int64_t r = 0; r < scores.rows; ++r) {
    auto row = scores.row(r);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[size_t(a)] < row[size_t(b)]; });
    // softmax of the ascending scores, then the running sum from the least likely token up
    const float top = row[size_t(order.back())];
    float total = 0.0f;
    for (size_t i = 0; i < order.size(); ++i) total += probs[i] = std::exp(row[size_t(order[i])] - top);
    float cumulative = 0.0f;
    std::vector<int64_t> removed;
    for (size_t i = 0; i + 1 < order.size(); ++i) {  // the last (most likely) token is always kept
      cumulative += probs[i] / total;
      if (cumulative <= threshold) removed.push_back(order[i]);
    }
    for (const int64_t id : removed) row[size_t(id)] = kMinusInf;
  }
}

void apply_logits_processors(const GenerationPlan& plan, const TokenTable& sequences, ScoreTable& scores) {
  if (plan.no_repeat_ngram_size > 0) ban_repeated_ngrams(sequences, scores, plan.no_repeat_ngram_size);
  if (plan.min_length > 0 && !plan.eos_token_ids.empty())
    ban_eos_before_min_length(sequences, scores, plan.min_length, plan.eos_token_ids);
  if (plan.forced_bos_token_id) force_tokens_at_length(sequences, scores, 1, {*plan.forced_bos_token_id});
  if (!plan.forced_eos_token_ids.empty())
    force_tokens_at_length(sequences, scores, plan.max_length - 1, plan.forced_eos_token_ids);
}

void apply_sampling_warpers(const GenerationPlan& plan, ScoreTable& scores) {
  if (plan.temperature != 1.0) divide_by_temperature(scores, plan.temperature);
  if (plan.top_k != 0) keep_top_k(scores, plan.top_k);
  if (plan.top_p < 1.0) keep_top_p(scores, plan.top_p);
}

}  // namespace petl::nn

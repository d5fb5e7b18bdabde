#include "nn/greedy_search.h"

#include <algorithm>
#include <cmath>

#include "nn/logits_processors.h"

namespace petl::nn {

int64_t draw_token(std::span<const float> scores, double uniform) {
  const float top = *std::max_element(scores.begin(), scores.end());
  PETL_CHECK(std::isfinite(top), "sampling: every token of a row was banned (all scores -inf)");
  // p(v) = exp(s_v - max) / sum; the first v whose running sum of p passes `uniform` is drawn.
  double total = 0.0;
  for (const float s : scores) total += std::exp(double(s - top));
  double cumulative = 0.0;
  int64_t last_possible = 0;
  for (size_t v = 0; v < scores.size(); ++v) {
    if (scores[v] == -INFINITY) continue;
    last_possible = int64_t(v);
    cumulative += std::exp(double(scores[v] - top)) / total;
    if (cumulative > uniform) return int64_t(v);
  }
  return last_possible;  // rounding left the sum just below `uniform`
}

TokenTable greedy_or_sample(StepModel& model, const TokenTable& prompts, const Tensor& first_logits,
                            const GenerationPlan& plan, Generator& gen) {
  const bool has_eos = !plan.eos_token_ids.empty();
  TokenTable sequences = prompts;
  std::vector<bool> unfinished(size_t(sequences.rows), true);
  Tensor logits = first_logits;
  while (true) {
    ScoreTable scores = ScoreTable::from_tensor(logits);
    apply_logits_processors(plan, sequences, scores);
    if (plan.do_sample) apply_sampling_warpers(plan, scores);
    const uint64_t draws = plan.do_sample ? gen.reserve(uint64_t(scores.rows)) : 0;

    std::vector<int64_t> next(size_t(scores.rows));
    for (int64_t r = 0; r < scores.rows; ++r) {
      const auto row = scores.row(r);
      next[size_t(r)] = plan.do_sample ? draw_token(row, random_uniform(gen.seed(), draws + uint64_t(r)))
                                       : int64_t(std::max_element(row.begin(), row.end()) - row.begin());
      // A row that has finished keeps appending pad.
      if (has_eos && !unfinished[size_t(r)]) next[size_t(r)] = plan.pad_token_id;
    }
    sequences = sequences.appended(next);

    bool any_unfinished = false;
    for (int64_t r = 0; r < sequences.rows; ++r) {
      const int64_t last = next[size_t(r)];
      const bool stops = sequences.length >= plan.max_length ||
                         std::find(plan.eos_token_ids.begin(), plan.eos_token_ids.end(), last) != plan.eos_token_ids.end();
      unfinished[size_t(r)] = unfinished[size_t(r)] && !stops;
      any_unfinished = any_unfinished || unfinished[size_t(r)];
    }
    if (!any_unfinished) return sequences;
    logits = model.next(from_vector(next, {sequences.rows}));
  }
}

}  // namespace petl::nn

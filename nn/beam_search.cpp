#include "nn/beam_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/ops.h"
#include "nn/logits_processors.h"

namespace petl::nn {
namespace {

// transformers marks impossible beams and hypotheses by adding -1e9 (in float32) to their score.
constexpr float kExcluded = -1.0e9f;

// One sequence of a prompt's beam: its tokens padded to max_length with the fill value.
struct Beam {
  std::vector<int64_t> tokens;
  float score = kExcluded;
  int64_t source_row = -1;  // the model row (prompt * num_beams + beam) it extends
  int64_t generated = 0;    // tokens after the prompt
  bool finished = false;
};

// A continuation of one beam by one token: one of the top K of the num_beams x vocab candidates.
struct Candidate {
  Beam beam;
  float log_prob = 0;    // accumulated log-probability
  bool stops = false;    // hits a stopping criterion: EOS, or max_length reached
};

// The indices of the k largest values, largest first, equal values in index order (torch.topk's
// order on these inputs; see docs/generation.md on ties).
std::vector<int64_t> top_k_indices(const std::vector<float>& values, int64_t k) {
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return values[size_t(a)] > values[size_t(b)] || (values[size_t(a)] == values[size_t(b)] && a < b);
  });
  order.resize(size_t(k));
  return order;
}

// generated_length ^ length_penalty, the denominator of a finished hypothesis' score.
float length_normalizer(int64_t generated_length, double length_penalty) {
  return float(std::pow(double(generated_length), length_penalty));
}

bool is_eos(int64_t token, const std::vector<int64_t>& eos) {
  return std::find(eos.begin(), eos.end(), token) != eos.end();
}

}  // namespace

TokenTable beam_search(StepModel& model, const TokenTable& prompts, const Tensor& first_logits,
                       const GenerationPlan& plan) {
  const int64_t B = prompts.rows, nb = plan.num_beams, V = plan.vocab_size, prompt_len = prompts.length;
  const int64_t max_length = plan.max_length;
  // Keep K = max(2, 1 + #eos) * num_beams candidates per prompt, so that num_beams of them can go on
  // even when the best ones all end.
  const int64_t K = std::max<int64_t>(2, 1 + int64_t(plan.eos_token_ids.size())) * nb;
  PETL_CHECK(K <= nb * V, "beam search: needs ", K, " candidates per prompt but num_beams x vocab_size is only ", nb * V);
  // transformers fills unused positions with `pad_token_id or eos_token_id[0]` (so pad id 0 gives
  // EOS), or -1 when the model has no EOS.
  const int64_t fill = plan.eos_token_ids.empty() ? -1 : (plan.pad_token_id != 0 ? plan.pad_token_id : plan.eos_token_ids[0]);

  // Running beams start as copies of the prompt; only beam 0 is live (the others score -1e9), so the
  // first step does not pick the same token num_beams times. Finished hypotheses start empty.
  std::vector<std::vector<Beam>> running(static_cast<size_t>(B)), finished(static_cast<size_t>(B));
  std::vector<bool> improvable(static_cast<size_t>(B), true);  // transformers' is_early_stop_heuristic_unsatisfied
  std::vector<int64_t> expand;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < nb; ++j) {
      Beam beam;
      beam.tokens.assign(size_t(max_length), fill);
      std::copy(prompts.row(b).begin(), prompts.row(b).end(), beam.tokens.begin());
      Beam placeholder = beam;
      beam.score = j == 0 ? 0.0f : kExcluded;
      running[size_t(b)].push_back(beam);
      finished[size_t(b)].push_back(placeholder);
      expand.push_back(b);
    }
  }
  // Each prompt's model row becomes num_beams identical rows.
  model.select_rows(from_vector(expand, {B * nb}));
  Tensor logits = first_logits;
  bool logits_need_expanding = true;

  for (int64_t cur_len = prompt_len;; ++cur_len) {
    // log p(token | beam), then the processors, on every (prompt, beam) row.
    ScoreTable log_probs = ScoreTable::from_tensor(log_softmax(logits, -1));
    if (logits_need_expanding) {
      ScoreTable expanded{B * nb, V, {}};
      for (int64_t row = 0; row < B * nb; ++row)
        expanded.values.insert(expanded.values.end(), log_probs.row(row / nb).begin(), log_probs.row(row / nb).end());
      log_probs = std::move(expanded);
      logits_need_expanding = false;
    }
    TokenTable sequences{B * nb, cur_len, {}};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < nb; ++j) {
        const auto& t = running[size_t(b)][size_t(j)].tokens;
        sequences.ids.insert(sequences.ids.end(), t.begin(), t.begin() + cur_len);
      }
    apply_logits_processors(plan, sequences, log_probs);

    std::vector<int64_t> next_rows, next_tokens;
    bool every_candidate_stops = true;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<Beam>& live = running[size_t(b)];
      std::vector<Beam>& done = finished[size_t(b)];
      // Accumulated score of every (beam, token): beam score + log p(token | beam), row-major.
      std::vector<float> accumulated(size_t(nb * V));
      for (int64_t j = 0; j < nb; ++j) {
        const auto row = log_probs.row(b * nb + j);
        for (int64_t v = 0; v < V; ++v) accumulated[size_t(j * V + v)] = row[size_t(v)] + live[size_t(j)].score;
      }
      // The top K continuations.
      std::vector<Candidate> candidates;
      for (const int64_t index : top_k_indices(accumulated, K)) {
        const int64_t j = index / V, token = index % V;
        Candidate c;
        c.beam = live[size_t(j)];
        c.beam.tokens[size_t(cur_len)] = token;
        c.beam.source_row = b * nb + j;
        c.beam.generated = cur_len + 1 - prompt_len;
        c.log_prob = accumulated[size_t(index)];
        c.stops = cur_len + 1 >= max_length || is_eos(token, plan.eos_token_ids);
        every_candidate_stops = every_candidate_stops && c.stops;
        candidates.push_back(std::move(c));
      }

      // The next running beams: the best num_beams candidates that do not stop.
      std::vector<float> running_scores;
      for (const Candidate& c : candidates) running_scores.push_back(c.log_prob + (c.stops ? kExcluded : 0.0f));
      std::vector<Beam> next_live;
      for (const int64_t i : top_k_indices(running_scores, nb)) {
        Beam beam = candidates[size_t(i)].beam;
        beam.score = running_scores[size_t(i)];
        next_rows.push_back(beam.source_row);
        next_tokens.push_back(beam.tokens[size_t(cur_len)]);
        next_live.push_back(std::move(beam));
      }

      // Finished hypotheses: a candidate among the top num_beams that stops enters with its
      // length-normalized score, unless this prompt is closed (all num_beams finished with
      // early_stopping true, or no improvement possible); the best num_beams of old and new stay.
      const bool all_done = std::all_of(done.begin(), done.end(), [](const Beam& h) { return h.finished; });
      const bool closed_by_early_stopping = all_done && plan.early_stopping == EarlyStopping::True;
      std::vector<float> merged_scores;
      for (const Beam& h : done) merged_scores.push_back(h.score);
      const float normalizer = length_normalizer(cur_len + 1 - prompt_len, plan.length_penalty);
      for (size_t i = 0; i < candidates.size(); ++i) {
        const bool just_finished = candidates[i].stops && int64_t(i) < nb;
        float score = candidates[i].log_prob / normalizer;
        score += closed_by_early_stopping ? kExcluded : 0.0f;
        score += improvable[size_t(b)] ? 0.0f : kExcluded;
        score += just_finished ? 0.0f : kExcluded;
        merged_scores.push_back(score);
      }
      std::vector<Beam> next_done;
      for (const int64_t i : top_k_indices(merged_scores, nb)) {
        Beam h;
        if (i < nb) {
          h = done[size_t(i)];
        } else {
          const size_t c = size_t(i - nb);
          h = candidates[c].beam;
          h.finished = candidates[c].stops && int64_t(c) < nb;
        }
        h.score = merged_scores[size_t(i)];
        next_done.push_back(std::move(h));
      }
      live = std::move(next_live);
      done = std::move(next_done);
    }

    // Can any prompt still improve? The best running beam is scored at the length the heuristic
    // assumes (the current one; max_length with early_stopping "never" and a positive penalty) and
    // compared with the worst finished score.
    const int64_t new_len = cur_len + 1;
    const int64_t hypothetical = plan.early_stopping == EarlyStopping::Never && plan.length_penalty > 0.0
                                     ? max_length - prompt_len
                                     : new_len - prompt_len;
    bool any_improvable = false, all_finished = true;
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<Beam>& done = finished[size_t(b)];
      const float best_possible = running[size_t(b)][0].score / length_normalizer(hypothetical, plan.length_penalty);
      float worst_done = done[0].score;
      for (const Beam& h : done) worst_done = std::min(worst_done, h.score);
      bool beats_some = false;
      for (const Beam& h : done) beats_some = beats_some || best_possible > (h.finished ? worst_done : kExcluded);
      improvable[size_t(b)] = improvable[size_t(b)] && beats_some;
      any_improvable = any_improvable || improvable[size_t(b)];
      for (const Beam& h : done) all_finished = all_finished && h.finished;
    }
    const bool open_beam_left = !(all_finished && plan.early_stopping == EarlyStopping::True);
    if (!(any_improvable && open_beam_left && !every_candidate_stops)) break;

    model.select_rows(from_vector(next_rows, {B * nb}));
    logits = model.next(from_vector(next_tokens, {B * nb}));
  }

  // The best num_return_sequences hypotheses per prompt, cut to the longest one returned.
  const int64_t R = plan.num_return_sequences;
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < R; ++j) longest = std::max(longest, finished[size_t(b)][size_t(j)].generated);
  TokenTable out{B * R, prompt_len + longest, {}};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < R; ++j) {
      const auto& t = finished[size_t(b)][size_t(j)].tokens;
      out.ids.insert(out.ids.end(), t.begin(), t.begin() + out.length);
    }
  return out;
}

}  // namespace petl::nn

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

// One prompt's search: num_beams running beams and the num_beams best finished hypotheses.
struct PromptBeams {
  std::vector<Beam> running, finished;
  bool improvable = true;  // transformers' is_early_stop_heuristic_unsatisfied
};

// Step c (transformers `_get_top_k_continuations`): the K best (beam, token) pairs by accumulated
// score  running score of the beam + log p(token | beam),  each extended by its token.
std::vector<Candidate> top_continuations(const PromptBeams& p, const ScoreTable& log_probs, int64_t first_row,
                                         int64_t K, int64_t cur_len, const GenerationPlan& plan) {
  const int64_t nb = int64_t(p.running.size()), V = log_probs.vocab;
  std::vector<float> accumulated(size_t(nb * V));  // (beam, token) row-major, as transformers flattens
  for (int64_t j = 0; j < nb; ++j) {
    const auto row = log_probs.row(first_row + j);
    for (int64_t v = 0; v < V; ++v) accumulated[size_t(j * V + v)] = row[size_t(v)] + p.running[size_t(j)].score;
  }
  std::vector<Candidate> candidates;
  for (const int64_t index : top_k_indices(accumulated, K)) {
    const int64_t j = index / V, token = index % V;
    Candidate c;
    c.beam = p.running[size_t(j)];
    c.beam.tokens[size_t(cur_len)] = token;
    c.beam.source_row = first_row + j;
    c.beam.generated = cur_len + 1 - plan.prompt_length;
    c.log_prob = accumulated[size_t(index)];
    c.stops = cur_len + 1 >= plan.max_length || is_eos(token, plan.eos_token_ids);  // the stopping criteria
    candidates.push_back(std::move(c));
  }
  return candidates;
}

// Step e (`_get_running_beams_for_next_iteration`): the best num_beams candidates that do not stop
// (a stopping one scores -1e9 more) run on.
void keep_running(PromptBeams& p, const std::vector<Candidate>& candidates) {
  std::vector<float> scores;
  for (const Candidate& c : candidates) scores.push_back(c.log_prob + (c.stops ? kExcluded : 0.0f));
  std::vector<Beam> next;
  for (const int64_t i : top_k_indices(scores, int64_t(p.running.size()))) {
    next.push_back(candidates[size_t(i)].beam);
    next.back().score = scores[size_t(i)];
  }
  p.running = std::move(next);
}

// Step f (`_update_finished_beams`): a stopping candidate among the first num_beams enters the
// finished set with score  log_prob / generated_length^length_penalty;  it is shut out (-1e9) when
// the prompt is closed: all num_beams finished with early_stopping true, or no improvement
// possible. The best num_beams of old and new hypotheses stay.
void update_finished(PromptBeams& p, const std::vector<Candidate>& candidates, int64_t cur_len,
                     const GenerationPlan& plan) {
  const int64_t nb = int64_t(p.finished.size());
  const bool all_finished = std::all_of(p.finished.begin(), p.finished.end(), [](const Beam& h) { return h.finished; });
  const bool closed_by_early_stopping = all_finished && plan.early_stopping == EarlyStopping::True;
  const float normalizer = length_normalizer(cur_len + 1 - plan.prompt_length, plan.length_penalty);
  std::vector<float> merged;  // old hypotheses first, then the candidates, as transformers concatenates
  for (const Beam& h : p.finished) merged.push_back(h.score);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const bool just_finished = candidates[i].stops && int64_t(i) < nb;
    float score = candidates[i].log_prob / normalizer;
    score += closed_by_early_stopping ? kExcluded : 0.0f;
    score += p.improvable ? 0.0f : kExcluded;
    score += just_finished ? 0.0f : kExcluded;
    merged.push_back(score);
  }
  std::vector<Beam> next;
  for (const int64_t i : top_k_indices(merged, nb)) {
    Beam h;
    if (i < nb) {
      h = p.finished[size_t(i)];
    } else {
      const size_t c = size_t(i - nb);
      h = candidates[c].beam;
      h.finished = candidates[c].stops && int64_t(c) < nb;
    }
    h.score = merged[size_t(i)];
    next.push_back(std::move(h));
  }
  p.finished = std::move(next);
}

// `_check_early_stop_heuristic`: can the best running beam still beat the worst finished
// hypothesis? It is scored at the length the heuristic assumes: the current one, or max_length
// with early_stopping "never" and a positive length penalty. Once false, it stays false.
void update_improvable(PromptBeams& p, int64_t new_len, const GenerationPlan& plan) {
  const int64_t assumed_length = plan.early_stopping == EarlyStopping::Never && plan.length_penalty > 0.0
                                     ? plan.max_length - plan.prompt_length
                                     : new_len - plan.prompt_length;
  const float best_possible = p.running[0].score / length_normalizer(assumed_length, plan.length_penalty);
  float worst_finished = p.finished[0].score;
  for (const Beam& h : p.finished) worst_finished = std::min(worst_finished, h.score);
  bool beats_some = false;
  for (const Beam& h : p.finished) beats_some = beats_some || best_possible > (h.finished ? worst_finished : kExcluded);
  p.improvable = p.improvable && beats_some;
}

}  // namespace

TokenTable beam_search(StepModel& model, const TokenTable& prompts, const Tensor& first_logits,
                       const GenerationPlan& plan) {
  const int64_t B = prompts.rows, nb = plan.num_beams, V = plan.vocab_size;
  // Keep K = max(2, 1 + #eos) * num_beams candidates per prompt, so that num_beams of them can go on
  // even when the best ones all end.
  const int64_t K = std::max<int64_t>(2, 1 + int64_t(plan.eos_token_ids.size())) * nb;
  PETL_CHECK(K <= nb * V, "beam search: needs ", K, " candidates per prompt but num_beams x vocab_size is only ", nb * V);
  // transformers fills unused positions with `pad_token_id or eos_token_id[0]` (so pad id 0 gives
  // EOS), or -1 when the model has no EOS.
  const int64_t fill = plan.eos_token_ids.empty() ? -1 : (plan.pad_token_id != 0 ? plan.pad_token_id : plan.eos_token_ids[0]);

  // Running beams start as copies of the prompt; only beam 0 is live (the others score -1e9), so the
  // first step does not pick the same token num_beams times. Finished hypotheses start empty.
  std::vector<PromptBeams> search(static_cast<size_t>(B));
  std::vector<int64_t> expand;
  for (int64_t b = 0; b < B; ++b) {
    Beam beam;
    beam.tokens.assign(size_t(plan.max_length), fill);
    std::copy(prompts.row(b).begin(), prompts.row(b).end(), beam.tokens.begin());
    for (int64_t j = 0; j < nb; ++j) {
      search[size_t(b)].finished.push_back(beam);
      search[size_t(b)].running.push_back(beam);
      search[size_t(b)].running.back().score = j == 0 ? 0.0f : kExcluded;
      expand.push_back(b);
    }
  }
  // Each prompt's model row becomes num_beams identical rows (row b * num_beams + j is beam j).
  model.select_rows(from_vector(expand, {B * nb}));
  Tensor logits = first_logits;

  for (int64_t cur_len = prompts.length;; ++cur_len) {
    // Step b: log p(token | beam) for every (prompt, beam) row, then the logits processors.
    ScoreTable log_probs = ScoreTable::from_tensor(log_softmax(logits, -1));
    if (cur_len == prompts.length) {  // first step: the prompts' logits, one row per prompt
      ScoreTable expanded{B * nb, V, {}};
      for (const int64_t b : expand) expanded.values.insert(expanded.values.end(), log_probs.row(b).begin(), log_probs.row(b).end());
      log_probs = std::move(expanded);
    }
    TokenTable sequences{B * nb, cur_len, {}};
    for (const PromptBeams& p : search)
      for (const Beam& beam : p.running) sequences.ids.insert(sequences.ids.end(), beam.tokens.begin(), beam.tokens.begin() + cur_len);
    apply_logits_processors(plan, sequences, log_probs);

    // Steps c, e, f per prompt.
    bool every_candidate_stops = true;
    for (int64_t b = 0; b < B; ++b) {
      PromptBeams& p = search[size_t(b)];
      const std::vector<Candidate> candidates = top_continuations(p, log_probs, b * nb, K, cur_len, plan);
      for (const Candidate& c : candidates) every_candidate_stops = every_candidate_stops && c.stops;
      keep_running(p, candidates);
      update_finished(p, candidates, cur_len, plan);
    }

    // Step g (`_beam_search_has_unfinished_sequences`): go on while some prompt can improve, some
    // hypothesis slot is open (early_stopping true closes a prompt once num_beams are finished),
    // and some candidate did not stop.
    bool any_improvable = false, all_finished = true;
    for (PromptBeams& p : search) {
      update_improvable(p, cur_len + 1, plan);
      any_improvable = any_improvable || p.improvable;
      for (const Beam& h : p.finished) all_finished = all_finished && h.finished;
    }
    const bool open_slot = !(all_finished && plan.early_stopping == EarlyStopping::True);
    if (!(any_improvable && open_slot && !every_candidate_stops)) break;

    // Reorder the model's cache rows to the surviving beams and score their new tokens.
    std::vector<int64_t> rows, tokens;
    for (const PromptBeams& p : search)
      for (const Beam& beam : p.running) {
        rows.push_back(beam.source_row);
        tokens.push_back(beam.tokens[size_t(cur_len)]);
      }
    model.select_rows(from_vector(rows, {B * nb}));
    logits = model.next(from_vector(tokens, {B * nb}));
  }

  // The best num_return_sequences hypotheses per prompt, cut to the longest one returned.
  const int64_t R = plan.num_return_sequences;
  int64_t longest = 0;
  for (const PromptBeams& p : search)
    for (int64_t j = 0; j < R; ++j) longest = std::max(longest, p.finished[size_t(j)].generated);
  TokenTable out{B * R, prompts.length + longest, {}};
  for (const PromptBeams& p : search)
    for (int64_t j = 0; j < R; ++j) {
      const auto& t = p.finished[size_t(j)].tokens;
      out.ids.insert(out.ids.end(), t.begin(), t.begin() + out.length);
    }
  return out;
}

}  // namespace petl::nn

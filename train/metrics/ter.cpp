// TER: sacrebleu 2.6.0 lib_ter.py (translation_edit_rate, _shift, _find_shifted_pairs,
// _perform_shift, trace_to_alignment, BeamEditDistance) and ter.py; see ter.h.
// Greedy shifting: while some block shift lowers the (beamed) edit distance, apply the best one
// (largest gain, then longest block, then earliest start, then earliest target); TER edits =
// shifts + the final edit distance. The row cache of BeamEditDistance only saves time and is left
// out; the candidate budget (1000 shift candidates per segment and reference) is kept, since it
// changes results on long segments.
#include "train/metrics/ter.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "tensor/error.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

constexpr int kMaxShiftSize = 10;
constexpr int kMaxShiftDist = 50;
constexpr int kBeamWidth = 25;
constexpr int kMaxShiftCandidates = 1000;
constexpr long kInfinity = 10000000000000000L;

using Words = std::vector<std::string>;

// Beamed Levenshtein distance from hyp to ref with the operation trace (' ' match, 's' substitute,
// 'i' insert = ref word missing from hyp, 'd' delete = extra hyp word), BeamEditDistance._edit_distance.
std::pair<long, std::string> edit_distance(const Words& hyp, const Words& ref) {
  const std::size_t nh = hyp.size(), nr = ref.size();
  std::vector<std::vector<std::pair<long, char>>> dist(nh + 1, std::vector<std::pair<long, char>>(nr + 1, {kInfinity, 'x'}));
  for (std::size_t j = 0; j <= nr; ++j) dist[0][j] = {long(j), 'i'};
  const double length_ratio = hyp.empty() ? 1.0 : double(nr) / double(nh);
  const long beam_width = kBeamWidth < length_ratio / 2 ? long(std::ceil(length_ratio / 2 + kBeamWidth)) : kBeamWidth;
  for (std::size_t i = 1; i <= nh; ++i) {
    const long pseudo_diag = long(std::floor(double(i) * length_ratio));
    const long min_j = std::max(0L, pseudo_diag - beam_width);
    long max_j = std::min(long(nr) + 1, pseudo_diag + beam_width);
    if (i == nh) max_j = long(nr) + 1;
    for (long jj = min_j; jj < max_j; ++jj) {
      const std::size_t j = std::size_t(jj);
      if (j == 0) {
        dist[i][j] = {dist[i - 1][j].first + 1, 'd'};
        continue;
      }
      const bool same = hyp[i - 1] == ref[j - 1];
      const std::pair<long, char> ops[3] = {{dist[i - 1][j - 1].first + (same ? 0 : 1), same ? ' ' : 's'},
                                            {dist[i - 1][j].first + 1, 'd'},
                                            {dist[i][j - 1].first + 1, 'i'}};
      for (const auto& op : ops)
        if (dist[i][j].first > op.first) dist[i][j] = op;
    }
  }
  std::string trace;
  std::size_t i = nh, j = nr;
  while (i > 0 || j > 0) {
    const char op = dist[i][j].second;
    trace.insert(trace.begin(), op);
    if (op == ' ' || op == 's') {
      --i, --j;
    } else if (op == 'i') {
      --j;
    } else if (op == 'd') {
      --i;
    } else {
      throw Error("ter: internal error, the edit trace left the beam");
    }
  }
  return {dist[nh][nr].first, trace};
}

// _perform_shift. Its Python slices clamp their bounds to the list (the "within" case reaches
// past the end when the block is shifted towards the last words), so these do too.
Words perform_shift(const Words& w, std::size_t start, std::size_t length, std::size_t target) {
  Words out;
  auto add = [&](std::size_t a, std::size_t b) {
    a = std::min(a, w.size());
    b = std::min(b, w.size());
    if (a < b) out.insert(out.end(), w.begin() + std::ptrdiff_t(a), w.begin() + std::ptrdiff_t(b));
  };
  if (target < start) {
    add(0, target), add(start, start + length), add(target, start), add(start + length, w.size());
  } else if (target > start + length) {
    add(0, start), add(start + length, target), add(start, start + length), add(target, w.size());
  } else {
    add(0, start), add(start + length, length + target), add(start, start + length), add(length + target, w.size());
  }
  return out;
}

// One greedy shift step (_shift). Returns the gain (0: none found) and the shifted words.
std::pair<long, Words> best_shift(const Words& hyp, const Words& ref, int& checked) {
  const auto [pre_score, inv_trace] = edit_distance(hyp, ref);
  // _flip_trace: read the trace from the reference's side ('i' <-> 'd').
  std::string trace = inv_trace;
  for (char& c : trace) c = c == 'i' ? 'd' : c == 'd' ? 'i' : c;
  // trace_to_alignment
  std::map<long, long> align;
  std::vector<int> ref_err, hyp_err;
  long pos_hyp = -1, pos_ref = -1;
  for (char op : trace) {
    if (op == ' ' || op == 's') {
      ++pos_hyp, ++pos_ref;
      align[pos_ref] = pos_hyp;
      hyp_err.push_back(op == 's');
      ref_err.push_back(op == 's');
    } else if (op == 'i') {
      ++pos_hyp;
      hyp_err.push_back(1);
    } else {
      ++pos_ref;
      align[pos_ref] = pos_hyp;
      ref_err.push_back(1);
    }
  }
  auto sum = [](const std::vector<int>& v, std::size_t a, std::size_t len) {
    int s = 0;
    for (std::size_t k = a; k < a + len && k < v.size(); ++k) s += v[k];
    return s;
  };
  bool have_best = false;
  std::tuple<long, long, long, long> best_key{};
  Words best_words;
  const std::size_t nh = hyp.size(), nr = ref.size();
  bool stop = false;
  for (std::size_t start_h = 0; start_h < nh && !stop; ++start_h) {
    for (std::size_t start_r = 0; start_r < nr && !stop; ++start_r) {
      if (std::abs(long(start_r) - long(start_h)) > kMaxShiftDist) continue;
      std::size_t length = 0;
      // _find_shifted_pairs yields every matching block (start_h, start_r, length)
      while (hyp[start_h + length] == ref[start_r + length] && length < std::size_t(kMaxShiftSize)) {
        ++length;
        bool skip = sum(hyp_err, start_h, length) == 0 || sum(ref_err, start_r, length) == 0;
        if (!skip) {
          const auto a = align.find(long(start_r));
          skip = a != align.end() && long(start_h) <= a->second && a->second < long(start_h + length);
        }
        if (!skip) {
          long prev_idx = -1;
          for (long offset = -1; offset < long(length); ++offset) {
            long idx;
            if (long(start_r) + offset == -1) {
              idx = 0;
            } else if (const auto f = align.find(long(start_r) + offset); f != align.end()) {
              idx = f->second + 1;
            } else {
              break;
            }
            if (idx == prev_idx) continue;
            prev_idx = idx;
            Words shifted = perform_shift(hyp, start_h, length, std::size_t(idx));
            const std::tuple<long, long, long, long> key{pre_score - edit_distance(shifted, ref).first, long(length),
                                                         -long(start_h), -idx};
            ++checked;
            if (!have_best || key > best_key) {
              have_best = true;
              best_key = key;
              best_words = std::move(shifted);
            }
          }
          // The budget is checked after each block that was tried.
          if (checked >= kMaxShiftCandidates) {
            stop = true;
            break;
          }
        }
        if (nh == start_h + length || nr == start_r + length) break;
      }
    }
  }
  if (!have_best) return {0, hyp};
  return {std::get<0>(best_key), best_words};
}

// translation_edit_rate: (edits, reference length) of one hypothesis against one reference.
std::pair<long, long> translation_edit_rate(const Words& hyp, const Words& ref) {
  if (ref.empty()) return {long(hyp.size()), 0};
  int checked = 0;
  long shifts = 0;
  Words input = hyp;
  while (true) {
    auto [delta, shifted] = best_shift(input, ref, checked);
    if (checked >= kMaxShiftCandidates) break;
    if (delta <= 0) break;
    ++shifts;
    input = std::move(shifted);
  }
  return {shifts + edit_distance(input, ref).first, long(ref.size())};
}

}  // namespace

TerStats ter_segment(const std::string& output, const std::vector<std::string>& references) {
  PETL_CHECK(!references.empty(), "ter: a segment has no reference");
  // TercomTokenizer defaults: lowercase, then ' '.join(sent.split()); the segment is rstrip()ped.
  const Words hyp = python_split(unicode_lower(output));
  long best = kInfinity;
  double lengths = 0;
  for (const std::string& reference : references) {
    const auto [edits, length] = translation_edit_rate(hyp, python_split(unicode_lower(reference)));
    lengths += double(length);
    best = std::min(best, edits);
  }
  return {double(best), lengths / double(references.size())};
}

double ter(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& references) {
  PETL_CHECK(outputs.size() == references.size(), "ter: ", outputs.size(), " outputs but ", references.size(),
             " reference lists");
  double edits = 0, length = 0;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const TerStats s = ter_segment(outputs[i], references[i]);
    edits += s.edits;
    length += s.ref_length;
  }
  if (length > 0) return edits / length;
  return edits > 0 ? 1.0 : 0.0;
}

}  // namespace petl::metrics

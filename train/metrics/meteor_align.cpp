#include "train/metrics/meteor_align.h"

#include <algorithm>
#include <cstdlib>

#include "train/metrics/meteor_paraphrase.h"

namespace petl::metrics::meteor {
namespace {

// The aligner's own module weights (MeteorScorer.loadConfiguration: exact 1, every other 0.5);
// the scorer's weights (1, 0.6, 0.8, 0.6) apply only later, to the counts.
constexpr double kSearchWeights[kModules] = {1.0, 0.5, 0.5, 0.5};
constexpr int kBeamSize = 40;

struct Match {
  int start = 0, length = 0;             // in the reference (line 2)
  int match_start = 0, match_length = 0; // in the test (line 1)
  int module = 0;
};

// Candidate matches listed per reference position, plus coverage counts (Stage.java).
struct Stage {
  std::vector<std::vector<int>> matches;  // indices into `pool`, per reference start
  std::vector<Match> pool;
  std::vector<int> coverage1, coverage2;

  void add(const Match& m) {
    matches[m.start].push_back(static_cast<int>(pool.size()));
    pool.push_back(m);
    for (int k = 0; k < m.match_length; ++k) ++coverage1[m.match_start + k];
    for (int k = 0; k < m.length; ++k) ++coverage2[m.start + k];
  }
};

struct Path {
  std::vector<int> matches;  // per reference position: pool index or -1
  int matches1 = 0, matches2 = 0;  // weighted, truncated to int after each addition
  int all_matches1 = 0, all_matches2 = 0;
  int chunks = 0, idx = 0, last_match_end = -1, distance = 0;
  std::vector<char> used1, used2;

  bool is_used(const Match& m) const {
    for (int j = 0; j < m.length; ++j)
      if (used2[m.start + j]) return true;
    for (int j = 0; j < m.match_length; ++j)
      if (used1[m.match_start + j]) return true;
    return false;
  }
  void set_used(const Match& m) {
    for (int j = 0; j < m.length; ++j) used2[m.start + j] = 1;
    for (int j = 0; j < m.match_length; ++j) used1[m.match_start + j] = 1;
  }
  // matchesN += length * weight, with Java's implicit narrowing of a compound assignment
  void count(const Match& m) {
    matches1 = static_cast<int>(matches1 + m.match_length * kSearchWeights[m.module]);
    matches2 = static_cast<int>(matches2 + m.length * kSearchWeights[m.module]);
    all_matches1 += m.match_length;
    all_matches2 += m.length;
  }
};

// Constants.PARTIAL_COMPARE_TOTAL: more weighted matches, then fewer chunks, then less distance.
bool better(const Path& x, const Path& y) {
  const int match_diff = (y.matches1 + y.matches2) - (x.matches1 + x.matches2);
  if (match_diff != 0) return match_diff > 0 ? false : true;
  if (x.chunks != y.chunks) return x.chunks < y.chunks;
  return x.distance < y.distance;
}

void sort_paths(std::vector<Path>& paths) { std::stable_sort(paths.begin(), paths.end(), better); }

void exact_matches(Stage& s, const std::vector<const WordKeys*>& t, const std::vector<const WordKeys*>& r, int module) {
  for (size_t j = 0; j < r.size(); ++j)
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i]->hash == r[j]->hash) s.add({int(j), 1, int(i), 1, module});
}

void stem_matches(Stage& s, const std::vector<const WordKeys*>& t, const std::vector<const WordKeys*>& r, int module) {
  for (size_t j = 0; j < r.size(); ++j)
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i]->stem_hash == r[j]->stem_hash && t[i]->hash != r[j]->hash)
        s.add({int(j), 1, int(i), 1, module});
}

bool share_synset(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) ++i; else ++j;
  }
  return false;
}

void synonym_matches(Stage& s, const std::vector<const WordKeys*>& t, const std::vector<const WordKeys*>& r, int module) {
  for (size_t j = 0; j < r.size(); ++j)
    for (size_t i = 0; i < t.size(); ++i)
      if (share_synset(t[i]->synsets, r[j]->synsets) && t[i]->hash != r[j]->hash)
        s.add({int(j), 1, int(i), 1, module});
}

// Phrases of the reference paraphrased in the test, then phrases of the test paraphrased in the
// reference (ParaphraseMatcher.java).
void paraphrase_matches(Stage& s, const std::vector<const WordKeys*>& t, const std::vector<const WordKeys*>& r,
                        int module, const ParaphraseTable& table) {
  std::vector<int32_t> line1(t.size()), line2(r.size());
  for (size_t i = 0; i < t.size(); ++i) line1[i] = t[i]->paraphrase_id;
  for (size_t j = 0; j < r.size(); ++j) line2[j] = r[j]->paraphrase_id;
  auto occurs_at = [](const std::vector<int32_t>& line, size_t at, const std::vector<int32_t>& words) {
    for (size_t k = 0; k < words.size(); ++k)
      if (at + k == line.size() || line[at + k] != words[k]) return false;
    return true;
  };
  std::vector<std::pair<int32_t, int32_t>> found;
  for (size_t j = 0; j < line2.size(); ++j) {
    table.paths(line2, j, found);
    for (const auto& [len, index] : found) {
      const auto& words = table.paraphrase(index);
      for (size_t i = 0; i < line1.size(); ++i)
        if (occurs_at(line1, i, words)) s.add({int(j), len, int(i), int(words.size()), module});
    }
  }
  for (size_t i = 0; i < line1.size(); ++i) {
    table.paths(line1, i, found);
    for (const auto& [len, index] : found) {
      const auto& words = table.paraphrase(index);
      for (size_t j = 0; j < line2.size(); ++j)
        if (occurs_at(line2, j, words)) s.add({int(j), int(words.size()), int(i), len, module});
    }
  }
}

// Aligner.resolve: the beam search, one reference position per round.
Path resolve(const Stage& s, Path start) {
  std::vector<Path> paths, next_paths;
  next_paths.push_back(std::move(start));
  const size_t positions = s.matches.size();
  for (size_t current = 0; current <= positions; ++current) {
    paths = std::move(next_paths);
    next_paths.clear();
    sort_paths(paths);
    for (size_t rank = 0; rank < static_cast<size_t>(kBeamSize) && rank < paths.size(); ++rank) {
      Path& path = paths[rank];
      if (current == positions) {  // complete: close the last chunk
        if (path.last_match_end != -1) ++path.chunks;
        next_paths.push_back(path);
        continue;
      }
      if (path.used2[current]) {
        if (static_cast<int>(current) < path.idx) {
          next_paths.push_back(path);  // inside a match already taken
        } else if (path.matches[path.idx] != -1) {
          const Match& m = s.pool[path.matches[path.idx]];  // a fixed match begins here
          path.count(m);
          if (path.last_match_end != -1 && m.match_start != path.last_match_end) ++path.chunks;
          path.idx = m.start + m.length;
          path.last_match_end = m.match_start + m.match_length;
          path.distance += std::abs(m.start - m.match_start);
          next_paths.push_back(path);
        }
        continue;
      }
      for (int index : s.matches[current]) {
        const Match& m = s.pool[index];
        if (path.is_used(m)) continue;
        Path branch = path;
        branch.set_used(m);
        branch.matches[current] = index;
        branch.count(m);
        if (branch.last_match_end != -1 && m.match_start != branch.last_match_end) ++branch.chunks;
        branch.idx = m.start + m.length;
        branch.last_match_end = m.match_start + m.match_length;
        path.distance += std::abs(m.start - m.match_start);  // sic: the jar charges the parent path
        next_paths.push_back(std::move(branch));
      }
      // or leave this reference word unmatched
      if (path.last_match_end != -1) {
        ++path.chunks;
        path.last_match_end = -1;
      }
      ++path.idx;
      next_paths.push_back(path);
    }
    if (next_paths.empty()) next_paths.push_back(paths[0]);
  }
  sort_paths(next_paths);
  return next_paths[0];
}

}  // namespace

AlignmentCounts align(const std::vector<const WordKeys*>& test,
                      const std::vector<const WordKeys*>& reference,
                      const std::array<bool, kModules>& enabled, const ParaphraseTable* paraphrases) {
  Stage s;
  s.matches.resize(reference.size());
  s.coverage1.assign(test.size(), 0);
  s.coverage2.assign(reference.size(), 0);

  // identical hash sequences need the exact module only ("prevents beam search errors")
  bool identical = test.size() == reference.size();
  for (size_t i = 0; identical && i < test.size(); ++i) identical = test[i]->hash == reference[i]->hash;
  const int modules_used = identical ? 1 : kModules;
  for (int m = 0; m < modules_used; ++m) {
    if (!enabled[m]) continue;
    if (m == 0) exact_matches(s, test, reference, m);
    if (m == 1) stem_matches(s, test, reference, m);
    if (m == 2) synonym_matches(s, test, reference, m);
    if (m == 3 && paraphrases) paraphrase_matches(s, test, reference, m, *paraphrases);
  }

  Path start;
  start.matches.assign(reference.size(), -1);
  start.used1.assign(test.size(), 0);
  start.used2.assign(reference.size(), 0);
  // a reference position with a single candidate that overlaps no other candidate is fixed
  for (size_t i = 0; i < s.matches.size(); ++i) {
    if (s.matches[i].size() != 1) continue;
    const Match& m = s.pool[s.matches[i][0]];
    bool overlap = false;
    for (int j = 0; j < m.length; ++j)
      if (s.coverage2[i + j] != 1) overlap = true;
    for (int j = 0; j < m.match_length; ++j)
      if (s.coverage1[m.match_start + j] != 1) overlap = true;
    if (!overlap) {
      start.matches[i] = s.matches[i][0];
      start.set_used(m);
    }
  }
  const Path best = resolve(s, std::move(start));

  AlignmentCounts counts;
  for (const auto* w : test) counts.function_words1 += w->function_word;
  for (const auto* w : reference) counts.function_words2 += w->function_word;
  // matched words by module and word type, over every chosen match
  for (int index : best.matches) {
    if (index == -1) continue;
    const Match& m = s.pool[index];
    for (int j = 0; j < m.match_length; ++j)
      ++(test[m.match_start + j]->function_word ? counts.function1 : counts.content1)[m.module];
    for (int j = 0; j < m.length; ++j)
      ++(reference[m.start + j]->function_word ? counts.function2 : counts.content2)[m.module];
  }
  // chunks: runs of matches contiguous in both lines (Aligner.getCountAndChunks)
  size_t idx = 0;
  int last_match_end = -1;
  while (idx < best.matches.size()) {
    if (best.matches[idx] == -1) {
      if (last_match_end != -1) {
        ++counts.chunks;
        last_match_end = -1;
      }
      ++idx;
      continue;
    }
    const Match& m = s.pool[best.matches[idx]];
    if (last_match_end != -1 && m.match_start != last_match_end) ++counts.chunks;
    idx = m.start + m.length;
    last_match_end = m.match_start + m.match_length;
  }
  if (last_match_end != -1) ++counts.chunks;
  return counts;
}

}  // namespace petl::metrics::meteor

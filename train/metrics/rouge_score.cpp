// rouge-score 0.1.2 (see rouge_score.h); function names follow rouge_scorer.py.
#include "train/metrics/rouge_score.h"

#include <algorithm>
#include <map>
#include <set>

#include "tensor/error.h"
#include "train/metrics/porter_stemmer.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

std::map<std::vector<std::string>, int> create_ngrams(const std::vector<std::string>& tokens, std::size_t n) {
  std::map<std::vector<std::string>, int> grams;
  for (std::size_t i = 0; i + n <= tokens.size(); ++i)
    ++grams[std::vector<std::string>(tokens.begin() + std::ptrdiff_t(i), tokens.begin() + std::ptrdiff_t(i + n))];
  return grams;
}

RougeScore score_ngrams(const std::vector<std::string>& target, const std::vector<std::string>& prediction,
                        std::size_t n) {
  const auto t = create_ngrams(target, n), p = create_ngrams(prediction, n);
  double overlap = 0, t_count = 0, p_count = 0;
  for (const auto& [gram, count] : t) {
    const auto it = p.find(gram);
    overlap += std::min(count, it == p.end() ? 0 : it->second);
    t_count += count;
  }
  for (const auto& [gram, count] : p) p_count += count;
  RougeScore s;
  s.precision = overlap / std::max(p_count, 1.0);
  s.recall = overlap / std::max(t_count, 1.0);
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

using Table = std::vector<std::vector<int>>;
Table lcs_table(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  Table t(ref.size() + 1, std::vector<int>(can.size() + 1, 0));
  for (std::size_t i = 1; i <= ref.size(); ++i)
    for (std::size_t j = 1; j <= can.size(); ++j)
      t[i][j] = ref[i - 1] == can[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t;
}

RougeScore score_lcs(const std::vector<std::string>& target, const std::vector<std::string>& prediction) {
  if (target.empty() || prediction.empty()) return {};
  const double lcs = lcs_table(target, prediction)[target.size()][prediction.size()];
  RougeScore s;
  s.precision = lcs / double(prediction.size());
  s.recall = lcs / double(target.size());
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

// _backtrack_norec: indices into ref of one LCS with the candidate.
std::vector<std::size_t> lcs_indices(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  const Table t = lcs_table(ref, can);
  std::vector<std::size_t> lcs;
  std::size_t i = ref.size(), j = can.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      lcs.insert(lcs.begin(), i - 1);
      --i, --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  return lcs;
}

// _summary_level_lcs: for each reference sentence the union of its LCS with every candidate
// sentence, hits counted while both texts still have unused copies of the token.
RougeScore summary_level_lcs(const std::vector<std::vector<std::string>>& ref_sents,
                             const std::vector<std::vector<std::string>>& can_sents) {
  if (ref_sents.empty() || can_sents.empty()) return {};
  double m = 0, n = 0;
  std::map<std::string, int> ref_counts, can_counts;
  for (const auto& s : ref_sents) {
    m += double(s.size());
    for (const auto& tok : s) ++ref_counts[tok];
  }
  for (const auto& s : can_sents) {
    n += double(s.size());
    for (const auto& tok : s) ++can_counts[tok];
  }
  if (m == 0 || n == 0) return {};
  double hits = 0;
  for (const auto& r : ref_sents) {
    std::set<std::size_t> uni;
    for (const auto& c : can_sents)
      for (std::size_t idx : lcs_indices(r, c)) uni.insert(idx);
    for (std::size_t idx : uni) {
      const std::string& tok = r[idx];
      if (can_counts[tok] > 0 && ref_counts[tok] > 0) {
        hits += 1;
        --can_counts[tok];
        --ref_counts[tok];
      }
    }
  }
  RougeScore s;
  s.recall = hits / m;
  s.precision = hits / n;
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

std::vector<std::vector<std::string>> sentences(std::string_view text, bool use_stemmer) {
  std::vector<std::vector<std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.push_back(rouge_tokenize(text.substr(start, end - start), use_stemmer));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> rouge_tokenize(std::string_view text, bool use_stemmer) {
  // text.lower(); re.sub("[^a-z0-9]+", " "); split on whitespace; stem tokens longer than 3.
  const std::string lowered = unicode_lower(text);
  std::vector<std::string> tokens;
  std::string current;
  for (char c : lowered) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      current.push_back(c);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  if (use_stemmer)
    for (std::string& t : tokens)
      if (t.size() > 3) t = porter_stem(t);
  // Stemming can only shorten to a non-empty [a-z0-9] string; the VALID_TOKEN filter keeps all.
  return tokens;
}

RougeScores rouge_score(std::string_view target, std::string_view prediction, bool use_stemmer) {
  const auto t = rouge_tokenize(target, use_stemmer), p = rouge_tokenize(prediction, use_stemmer);
  RougeScores s;
  s.rouge1 = score_ngrams(t, p, 1);
  s.rouge2 = score_ngrams(t, p, 2);
  s.rougeL = score_lcs(t, p);
  s.rougeLsum = summary_level_lcs(sentences(target, use_stemmer), sentences(prediction, use_stemmer));
  return s;
}

RougeCorpus rouge_corpus_mean_f1(const std::vector<std::string>& predictions, const std::vector<std::string>& targets,
                                 bool use_stemmer) {
  PETL_CHECK(predictions.size() == targets.size(), "rouge: ", predictions.size(), " predictions but ", targets.size(),
             " targets");
  PETL_CHECK(!predictions.empty(), "rouge: nothing to score");
  RougeCorpus c;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const RougeScores s = rouge_score(targets[i], predictions[i], use_stemmer);
    c.rouge1 += s.rouge1.fmeasure;
    c.rouge2 += s.rouge2.fmeasure;
    c.rougeL += s.rougeL.fmeasure;
    c.rougeLsum += s.rougeLsum.fmeasure;
  }
  const double n = double(predictions.size());
  c.rouge1 /= n, c.rouge2 /= n, c.rougeL /= n, c.rougeLsum /= n;
  return c;
}

}  // namespace petl::metrics

// CIDEr-D of pycocoevalcap 1.2 (cider/cider_scorer.py, the E2E scorer's CIDEr):
//   g_n(s)   = tf(ngram, s) * (log N - log max(1, df(ngram)))      tf-idf of each n-gram, n = 1..4
//   sim_n    = sum_{g in c} min(g_n(c), g_n(r)) * g_n(r) / (|g_n(c)| |g_n(r)|)
//              * exp(-(l(c) - l(r))^2 / (2 sigma^2)),  sigma = 6
//   CIDEr-D  = 10 / |refs| * sum_r (1/4) sum_n sim_n(c, r),  averaged over segments
// N = number of segments, df = number of segments whose references contain the n-gram. As in the
// code (not the paper), the length l(.) is the number of bigram occurrences, and the cosine is
// left undivided when a norm is 0. Tokens: caption.split() (Python whitespace).
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "tensor/error.h"
#include "train/metrics/coco_caption.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {
constexpr int kOrder = 4;
constexpr double kSigma = 6.0;

using Counts = std::unordered_map<std::string, int>;
std::array<Counts, kOrder> precook(const std::string& caption) {
  const std::vector<std::string> words = python_split(caption);
  std::array<Counts, kOrder> counts;
  for (std::size_t n = 1; n <= std::size_t(kOrder); ++n)
    for (std::size_t i = 0; i + n <= words.size(); ++i) ++counts[n - 1][ngram_key(words, i, n)];
  return counts;
}

struct Vector {
  std::array<std::unordered_map<std::string, double>, kOrder> weights;
  std::array<double, kOrder> norm{};
  double length = 0;
};
}  // namespace

std::vector<double> cider_d_per_segment(const std::vector<std::string>& outputs, const References& references) {
  PETL_CHECK(outputs.size() == references.size(), "cider_d: ", outputs.size(), " outputs but ", references.size(),
             " reference lists");
  PETL_CHECK(!outputs.empty(), "cider_d: no segments to score");
  std::vector<std::vector<std::array<Counts, kOrder>>> ref_counts(references.size());
  std::unordered_map<std::string, double> document_frequency;
  for (std::size_t i = 0; i < references.size(); ++i) {
    PETL_CHECK(!references[i].empty(), "cider_d: segment ", i + 1, " has no reference");
    std::set<std::string> seen;
    for (const std::string& ref : references[i]) {
      ref_counts[i].push_back(precook(ref));
      for (const auto& order : ref_counts[i].back())
        for (const auto& [key, count] : order) seen.insert(key);
    }
    for (const std::string& key : seen) document_frequency[key] += 1;
  }
  const double log_n = std::log(double(references.size()));
  auto to_vector = [&](const std::array<Counts, kOrder>& counts) {
    Vector v;
    for (std::size_t n = 0; n < std::size_t(kOrder); ++n) {
      for (const auto& [key, tf] : counts[n]) {
        const auto found = document_frequency.find(key);
        const double df = std::log(std::max(1.0, found == document_frequency.end() ? 0.0 : found->second));
        const double w = double(tf) * (log_n - df);
        v.weights[n][key] = w;
        v.norm[n] += w * w;
        if (n == 1) v.length += tf;
      }
      v.norm[n] = std::sqrt(v.norm[n]);
    }
    return v;
  };
  std::vector<double> scores;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Vector hyp = to_vector(precook(outputs[i]));
    std::array<double, kOrder> total{};
    for (const auto& counts : ref_counts[i]) {
      const Vector ref = to_vector(counts);
      const double delta = hyp.length - ref.length;
      for (std::size_t n = 0; n < std::size_t(kOrder); ++n) {
        double val = 0;
        for (const auto& [key, w] : hyp.weights[n]) {
          const auto found = ref.weights[n].find(key);
          const double r = found == ref.weights[n].end() ? 0.0 : found->second;
          val += std::min(w, r) * r;
        }
        if (hyp.norm[n] != 0 && ref.norm[n] != 0) val /= hyp.norm[n] * ref.norm[n];
        val *= std::exp(-(delta * delta) / (2 * kSigma * kSigma));
        total[n] += val;
      }
    }
    double mean = 0;
    for (double t : total) mean += t;
    mean /= kOrder;
    scores.push_back(mean / double(references[i].size()) * 10.0);
  }
  return scores;
}

double cider_d(const std::vector<std::string>& outputs, const References& references) {
  const auto scores = cider_d_per_segment(outputs, references);
  double sum = 0;
  for (double s : scores) sum += s;
  return sum / double(scores.size());
}

}  // namespace petl::metrics

// multi-bleu.perl (Moses), see bleu_multi.h:
//   BLEU = BP * exp( (1/4) sum_{n=1..4} log p_n ),  BP = exp(1 - r/c) if c < r else 1
// p_n = clipped matches / hypothesis n-grams over the corpus (clip = the largest count in any one
// reference), r = sum of the closest reference lengths (the shorter one on a tie), c = hypothesis
// words. A zero p_n makes log p_n = -9999999999 (the script's my_log), i.e. BLEU 0.
#include "train/metrics/bleu_multi.h"

#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "tensor/error.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {
double my_log(double x) { return x == 0 ? -9999999999.0 : std::log(x); }
}  // namespace

MultiBleu multi_bleu(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& references,
                     bool lowercase) {
  PETL_CHECK(outputs.size() == references.size(), "multi-bleu: ", outputs.size(), " outputs but ",
             references.size(), " reference lists");
  double correct[5] = {0, 0, 0, 0, 0}, total[5] = {0, 0, 0, 0, 0};
  MultiBleu result;
  for (std::size_t s = 0; s < outputs.size(); ++s) {
    const auto words = ascii_split(lowercase ? ascii_lower(outputs[s]) : outputs[s]);
    std::unordered_map<std::string, int> ref_max;
    double closest_diff = 9999, closest_length = 9999;
    for (const std::string& reference : references[s]) {
      const auto ref_words = ascii_split(lowercase ? ascii_lower(reference) : reference);
      const double length = double(ref_words.size());
      const double diff = std::abs(double(words.size()) - length);
      if (diff < closest_diff) {
        closest_diff = diff;
        closest_length = length;
      } else if (diff == closest_diff && length < closest_length) {
        closest_length = length;
      }
      for (std::size_t n = 1; n <= 4; ++n) {
        std::unordered_map<std::string, int> counts;
        for (std::size_t i = 0; i + n <= ref_words.size(); ++i) ++counts[std::to_string(n) + '\x02' + ngram_key(ref_words, i, n)];
        for (const auto& [key, count] : counts) {
          int& best = ref_max[key];
          best = std::max(best, count);
        }
      }
    }
    result.hyp_length += double(words.size());
    result.ref_length += closest_length;
    for (std::size_t n = 1; n <= 4; ++n) {
      std::unordered_map<std::string, int> counts;
      for (std::size_t i = 0; i + n <= words.size(); ++i) ++counts[std::to_string(n) + '\x02' + ngram_key(words, i, n)];
      for (const auto& [key, count] : counts) {
        total[n] += count;
        const auto it = ref_max.find(key);
        if (it != ref_max.end()) correct[n] += std::min(count, it->second);
      }
    }
  }
  PETL_CHECK(result.ref_length != 0, "multi-bleu: the references hold no words (the script prints BLEU = 0 and exits 1)");
  PETL_CHECK(result.hyp_length != 0, "multi-bleu: every output is empty (the script divides by the output length)");
  for (int n = 1; n <= 4; ++n) result.precisions[n - 1] = total[n] ? correct[n] / total[n] : 0;
  if (result.hyp_length < result.ref_length) result.brevity_penalty = std::exp(1 - result.ref_length / result.hyp_length);
  double sum = 0;
  for (double p : result.precisions) sum += my_log(p);
  result.bleu = result.brevity_penalty * std::exp(sum / 4);
  return result;
}

}  // namespace petl::metrics

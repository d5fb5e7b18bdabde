// BLEU of the E2E NLG Challenge scorer: mteval-v13a-sig.pl's `bleu_score` (the default, smoothed
// variant) on the system-level sums, as tuetschek/e2e-metrics measure_scores.py `run_mteval`
// reports it. Statistics in mteval_statistics.cpp.
//
//   BLEU = BP * exp( (1/4) * sum_{n=1..4} log p_n ),   BP = exp(min(0, 1 - r / c))
//
// p_n = matched n-grams (clipped by the largest count in any one reference) / output n-grams,
// c = output words, r = sum over segments of the reference length closest to the output's
// (the shorter on a tie). Smoothing: the k-th order with no match uses 1 / (2^k * output n-grams);
// an order with no output n-grams contributes log 1 = 0. No output words at all gives 0.
#include <algorithm>
#include <cmath>

#include "train/metrics/mteval.h"

namespace petl::metrics {

double bleu_e2e(const mteval::CorpusStats& s) {
  const double exp_len_score = s.tst[1] > 0 ? std::exp(std::min(0.0, 1 - s.ref_length / s.tst[1])) : 0.0;
  double smooth = 1, score = 0;
  for (std::size_t n = 1; n <= 4; ++n) {
    double iscore;
    if (s.tst[n] == 0) {
      iscore = 0;
    } else if (s.match[n] == 0) {
      smooth *= 2;
      iscore = std::log(1 / (smooth * s.tst[n]));
    } else {
      iscore = std::log(s.match[n] / s.tst[n]);
    }
    score += iscore;
  }
  return std::exp(score / 4) * exp_len_score;
}

double bleu_e2e(const std::vector<std::string>& outputs, const References& references) {
  return bleu_e2e(mteval::corpus_statistics(outputs, references));
}

}  // namespace petl::metrics

// NIST of the E2E NLG Challenge scorer: mteval-v13a-sig.pl's `nist_score` and
// `nist_length_penalty` on the system-level sums (statistics in mteval_statistics.cpp).
//
//   NIST = sum_{n=1..5} ( sum_{matched n-grams g} info(g) * clipped count(g) ) / (output n-grams)
//          * exp( -beta * log(c / L)^2 )  if c < L, else * 1;   beta = -log(0.5) / log(1.5)^2
//
// info(w1..wn) = log2( count(w1..wn-1) / count(w1..wn) ) over all references of the scored set,
// c = output words, L = (total reference words) / (mean number of non-empty references per
// segment): the average reference length, where the E2E script's padding references (empty)
// are not counted as references.
#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "train/metrics/mteval.h"

namespace petl::metrics {

namespace {
double nist_length_penalty(double ratio) {
  if (ratio >= 1) return 1;
  if (ratio <= 0) return 0;
  const double ratio_x = 1.5, score_x = 0.5;
  const double beta = -std::log(score_x) / std::log(ratio_x) / std::log(ratio_x);
  return std::exp(-beta * std::log(ratio) * std::log(ratio));
}
}  // namespace

double nist(const mteval::CorpusStats& s) {
  const double refs_per_segment = s.ref_count / s.seg_count;
  PETL_CHECK(s.ref[1] > 0 && refs_per_segment > 0,
             "nist: the references hold no words (mteval-v13a divides by their length)");
  double score = 0;
  for (std::size_t n = 1; n <= 5; ++n) score += s.tst_info[n] / std::max(s.tst[n], 1.0);
  return score * nist_length_penalty(s.tst[1] / (s.ref[1] / refs_per_segment));
}

double nist(const std::vector<std::string>& outputs, const References& references) {
  return nist(mteval::corpus_statistics(outputs, references));
}

}  // namespace petl::metrics

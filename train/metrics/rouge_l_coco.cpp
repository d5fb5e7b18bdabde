// ROUGE-L of pycocoevalcap 1.2 (rouge/rouge.py, class Rouge), the E2E scorer's ROUGE_L:
//   P = max_r LCS(c, r) / |c|,  R = max_r LCS(c, r) / |r|   (maxima taken separately)
//   ROUGE-L = (1 + beta^2) P R / (R + beta^2 P),  beta = 1.2;  0 when P or R is 0
// averaged over segments. Tokens: caption.split(" ").
#include <algorithm>

#include "tensor/error.h"
#include "train/metrics/coco_caption.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {
std::size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::vector<double> rouge_l_coco_per_segment(const std::vector<std::string>& outputs, const References& references) {
  PETL_CHECK(outputs.size() == references.size(), "rouge_l_coco: ", outputs.size(), " outputs but ",
             references.size(), " reference lists");
  const double beta = 1.2;
  std::vector<double> scores;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    PETL_CHECK(!references[i].empty(), "rouge_l_coco: segment ", i + 1, " has no reference");
    const auto candidate = split_on_single_space(outputs[i]);
    double prec_max = 0, rec_max = 0;
    for (const std::string& ref : references[i]) {
      const auto tokens = split_on_single_space(ref);
      const double lcs = double(lcs_length(tokens, candidate));
      prec_max = std::max(prec_max, lcs / double(candidate.size()));
      rec_max = std::max(rec_max, lcs / double(tokens.size()));
    }
    scores.push_back(prec_max != 0 && rec_max != 0
                         ? (1 + beta * beta) * prec_max * rec_max / (rec_max + beta * beta * prec_max)
                         : 0.0);
  }
  return scores;
}

double rouge_l_coco(const std::vector<std::string>& outputs, const References& references) {
  const auto scores = rouge_l_coco_per_segment(outputs, references);
  double sum = 0;
  for (double s : scores) sum += s;
  return sum / double(scores.size());
}

}  // namespace petl::metrics

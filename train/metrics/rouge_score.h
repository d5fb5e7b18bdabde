// ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum as Google's rouge-score 0.1.2 computes them
// (rouge_score/rouge_scorer.py RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"],
// use_stemmer=True).score(target, prediction), tokenize.py, scoring.py): lowercase, every run of
// characters outside [a-z0-9] a separator, tokens longer than 3 characters Porter-stemmed
// (porter_stemmer.h); ROUGE-N from clipped n-gram overlap, ROUGE-L from the LCS, ROUGE-Lsum the
// summary-level union LCS over sentences split at "\n". Each gives precision, recall and
// F1 = 2PR / (P + R).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace petl::metrics {

struct RougeScore {
  double precision = 0, recall = 0, fmeasure = 0;
};

struct RougeScores {
  RougeScore rouge1, rouge2, rougeL, rougeLsum;
};

// rouge-score's tokenizer (tokenize.tokenize with the stemmer).
std::vector<std::string> rouge_tokenize(std::string_view text, bool use_stemmer = true);

// RougeScorer.score(target, prediction) for one pair.
RougeScores rouge_score(std::string_view target, std::string_view prediction, bool use_stemmer = true);

// The corpus figures XSum papers report: the mean over pairs of each F1 (what rouge-score's
// BootstrapAggregator estimates as its "mid" value, without the resampling).
struct RougeCorpus {
  double rouge1 = 0, rouge2 = 0, rougeL = 0, rougeLsum = 0;
};
RougeCorpus rouge_corpus_mean_f1(const std::vector<std::string>& predictions,
                                 const std::vector<std::string>& targets, bool use_stemmer = true);

}  // namespace petl::metrics

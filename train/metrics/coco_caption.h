// ROUGE-L and CIDEr-D as the MS-COCO caption evaluation code computes them (pycocoevalcap 1.2,
// the copy tuetschek/e2e-metrics runs for the E2E challenge): rouge/rouge.py and
// cider/cider_scorer.py. Both score captions already tokenized by coco_tokenize (see
// coco_tokenize_references / coco_tokenize_outputs for the exact runs the E2E scorer makes).
#pragma once
#include <string>
#include <vector>

namespace petl::metrics {

using References = std::vector<std::vector<std::string>>;

// The tokenizer runs of pycocoevalcap's COCOEvalCap.evaluate: one over every reference of every
// segment (segment by segment), one over the outputs.
References coco_tokenize_references(const References& references);
std::vector<std::string> coco_tokenize_outputs(const std::vector<std::string>& outputs);

// Mean over segments of ROUGE-L (beta = 1.2, the largest precision and the largest recall over
// the references taken separately). Tokens are the " "-separated fields (an empty caption is
// one empty token, as in rouge.py).
double rouge_l_coco(const std::vector<std::string>& tokenized_outputs, const References& tokenized_references);
std::vector<double> rouge_l_coco_per_segment(const std::vector<std::string>& tokenized_outputs,
                                             const References& tokenized_references);

// CIDEr-D (n = 1..4, sigma = 6, clipped tf-idf, x10), document frequencies over the references
// of the scored set; mean over segments.
double cider_d(const std::vector<std::string>& tokenized_outputs, const References& tokenized_references);
std::vector<double> cider_d_per_segment(const std::vector<std::string>& tokenized_outputs,
                                        const References& tokenized_references);

}  // namespace petl::metrics

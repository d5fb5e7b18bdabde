// Each task's official metric set, with the reference conventions of its official evaluation:
// which references a metric sees, how outputs are read, what tokenization comes first. petl_score
// and the tests both go through these, so the conventions live in one place (docs/metrics.md).
//
//   E2E     tuetschek/e2e-metrics measure_scores.py: outputs stripped; BLEU, NIST (mteval) on
//           the raw texts; METEOR, ROUGE_L, CIDEr on the COCO PTB-tokenized texts; all references.
//   WebNLG  webnlg-automatic-evaluation (2017): references and outputs tokenized at every \W
//           character, lowercased and transliterated to ASCII as evaluation.py writes its files
//           (data_to_text_text.h); BLEU = multi-bleu.perl -lc over the first three references
//           (fewer padded with empty references), TER (tercom defaults) over the same three,
//           unpadded; for all / seen / unseen categories separately.
//   DART    Yale-LILY/dart run_eval_on_dart.sh: references and outputs lowercased and tokenized
//           at every \W character (its all-delex-reference files; data_to_text_text.h);
//           BLEU = multi-bleu.perl over the first three references, padded; METEOR 1.5
//           (-l en -norm) and TER against the first reference only (prepare_files.py writes
//           reference0 alone for them).
//   XSum    rouge-score 0.1.2 with the Porter stemmer, the mean of the per-example F1.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace petl::metrics {

class Meteor;
using References = std::vector<std::vector<std::string>>;

struct E2EScores {
  double bleu = 0, nist = 0, rouge_l = 0, cider = 0;
  std::optional<double> meteor;  // absent when no METEOR scorer was given
};
// `meteor` may be null (METEOR not computed).
E2EScores score_e2e(const std::vector<std::string>& outputs, const References& references, Meteor* meteor);

// The first `count` references of each input, padded with empty references to `count` (multi-bleu
// reads one reference file per position; a missing reference is an empty line there).
References padded_references(const References& references, std::size_t count);
// At most the first `count` references of each input, no padding.
References first_references(const References& references, std::size_t count);

struct BleuTer {
  double bleu = 0;  // multi-bleu's scale: 0..100
  double ter = 0;   // tercom's scale: a fraction
};
// outputs and references as they stand in the output file and the XML / JSON: the official
// preprocessing is applied here (it leaves already preprocessed texts unchanged).
BleuTer score_webnlg(const std::vector<std::string>& outputs, const References& references);

struct DartScores {
  double bleu = 0;  // 0..100
  double ter = 0;
  std::optional<double> meteor;
};
DartScores score_dart(const std::vector<std::string>& outputs, const References& references, Meteor* meteor);

struct XsumScores {
  double rouge1 = 0, rouge2 = 0, rougeL = 0, rougeLsum = 0;  // mean F1, fractions
};
XsumScores score_xsum(const std::vector<std::string>& outputs, const std::vector<std::string>& summaries);

}  // namespace petl::metrics

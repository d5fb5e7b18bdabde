// The NIST MT-Eval script as the E2E NLG Challenge scorer runs it: mteval-v13a-sig.pl (Gimpel's
// significance-testing variant of NIST mteval-v13a, adapted by Dušek for a variable number of
// references per segment) from tuetschek/e2e-metrics, mteval/mteval-v13a-sig.pl, called by
// measure_scores.py `run_mteval` with default options (-r ref.sgm -s src.sgm -t tst.sgm): default
// ("v11b") tokenization, lowercased, BLEU with the closest-reference brevity penalty and the
// script's smoothing, NIST with 5-grams. This file holds what BLEU and NIST share: how a segment
// becomes tokens and the per-segment n-gram statistics; bleu_e2e.cpp and nist.cpp the formulas.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace petl::metrics {

using References = std::vector<std::vector<std::string>>;  // references[i]: those of output i

// What mteval-v13a makes of the text of one <seg> that measure_scores.py wrote: the SGML
// reading collapses every run of (Unicode) whitespace to one space, then `tokenization`
// converts &quot; &amp; &lt; &gt;, lowercases A-Z, splits off punctuation (periods and commas
// only when not between digits, dashes after a digit) and joins tokens with single spaces.
std::string mteval_tokenize(std::string_view segment);

namespace mteval {

inline constexpr int kMaxNgram = 9;  // $max_Ngram: statistics are kept up to 9-grams

// Statistics of one corpus (one "document" of segments), summed over segments as
// score_document/score_system do; index n = 1..9 (index 0 unused).
struct CorpusStats {
  double ref_length = 0;   // sum of the closest reference lengths (BLEU brevity penalty)
  double ref_count = 0;    // sum over segments of the number of non-empty references
  double seg_count = 0;
  std::array<double, kMaxNgram + 1> match{}, tst{}, ref{}, tst_info{};
};

// Tokenizes outputs and references, computes the NIST information weights of every reference
// n-gram (compute_ngram_info) and the statistics of every segment (score_segment), summed.
// references[i] may hold any positive number of references (the E2E script pads the shorter
// lists with empty references, which count nowhere).
CorpusStats corpus_statistics(const std::vector<std::string>& outputs, const References& references);

}  // namespace mteval

// BLEU as mteval-v13a-sig.pl prints it for the system ("BLEU score = 0.6925"), in [0, 1].
double bleu_e2e(const std::vector<std::string>& outputs, const References& references);
double bleu_e2e(const mteval::CorpusStats& stats);

// NIST (5-grams) as mteval-v13a-sig.pl prints it for the system ("NIST score = 8.4781").
double nist(const std::vector<std::string>& outputs, const References& references);
double nist(const mteval::CorpusStats& stats);

}  // namespace petl::metrics

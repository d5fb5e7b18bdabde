// TER (translation edit rate, Snover et al. 2006) as the WebNLG 2017 and DART evaluations compute
// it: tercom 0.7.25 with default options (`java -jar tercom.7.25.jar -h hyp -r ref`: lowercased,
// no punctuation removal, no normalization, shifts of up to 10 words over at most 50 positions,
// beam 20 in the jar). The implementation follows sacrebleu 2.6.0's port of tercom
// (sacrebleu/metrics/lib_ter.py and ter.py, TER() with its defaults), which states it reproduces
// tercom; sacrebleu is the oracle the fixtures were made with (tercom itself is not on PyPI or in
// Debian). Multi-reference as tercom: per segment the fewest edits over its references, divided
// in the corpus sum by the average reference length of the segment.
#pragma once
#include <string>
#include <vector>

namespace petl::metrics {

struct TerStats {
  double edits = 0;       // best (smallest) number of edits over the references
  double ref_length = 0;  // average reference length, in words
};

// One segment: words are the Python-whitespace fields of the lowercased text.
TerStats ter_segment(const std::string& output, const std::vector<std::string>& references);

// Corpus TER in [0, inf): total edits / total average reference length (1 when the references
// are all empty and some output is not, 0 when both are empty), as a fraction (tercom prints it
// so; sacrebleu multiplies by 100).
double ter(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& references);

}  // namespace petl::metrics

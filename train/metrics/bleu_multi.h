// BLEU as Moses' scripts/generic/multi-bleu.perl computes it, the way the WebNLG 2017 challenge
// (webnlg-automatic-evaluation/bleu_eval_3ref.sh: `multi-bleu.perl -lc ref0 ref1 ref2 < hyp`)
// and DART (evaluation/run_eval_on_dart.sh: `multi-bleu.perl ref0 ref1 ref2 < hyp`, no -lc) run it.
// Tokens are the whitespace-separated fields of the text as given (the script tokenizes nothing);
// -lc lowercases A-Z only (the script reads bytes).
#pragma once
#include <string>
#include <vector>

namespace petl::metrics {

struct MultiBleu {
  double bleu = 0;                    // in [0, 1]; the script prints 100 * bleu with 2 decimals
  double precisions[4] = {0, 0, 0, 0};
  double brevity_penalty = 1;
  double hyp_length = 0, ref_length = 0;
};

// references[i] are output i's references, one per reference file: an empty string stands for a
// line that is empty in that file (the official reference files pad entries with fewer
// references that way, and an empty line takes part in the closest-length choice with length 0).
MultiBleu multi_bleu(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& references,
                     bool lowercase);

}  // namespace petl::metrics

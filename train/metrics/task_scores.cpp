#include "train/metrics/task_scores.h"

#include "tensor/error.h"
#include "train/metrics/bleu_multi.h"
#include "train/metrics/coco_caption.h"
#include "train/metrics/data_to_text_text.h"
#include "train/metrics/meteor.h"
#include "train/metrics/mteval.h"
#include "train/metrics/rouge_score.h"
#include "train/metrics/ter.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

E2EScores score_e2e(const std::vector<std::string>& outputs, const References& references, Meteor* meteor) {
  PETL_CHECK(outputs.size() == references.size(), "E2E scores: ", outputs.size(), " outputs but ",
             references.size(), " inputs");
  std::vector<std::string> stripped;  // measure_scores.py read_lines: line.strip()
  for (const std::string& o : outputs) stripped.push_back(python_strip(o));
  E2EScores s;
  const mteval::CorpusStats stats = mteval::corpus_statistics(stripped, references);
  s.bleu = bleu_e2e(stats);
  s.nist = nist(stats);
  const References tok_refs = coco_tokenize_references(references);
  const std::vector<std::string> tok_outputs = coco_tokenize_outputs(stripped);
  s.rouge_l = rouge_l_coco(tok_outputs, tok_refs);
  s.cider = cider_d(tok_outputs, tok_refs);
  if (meteor) s.meteor = meteor->corpus_score(tok_outputs, tok_refs);
  return s;
}

References padded_references(const References& references, std::size_t count) {
  References out;
  for (const auto& refs : references) {
    std::vector<std::string> row(refs.begin(), refs.begin() + std::ptrdiff_t(std::min(count, refs.size())));
    row.resize(count);
    out.push_back(std::move(row));
  }
  return out;
}

References first_references(const References& references, std::size_t count) {
  References out;
  for (const auto& refs : references)
    out.emplace_back(refs.begin(), refs.begin() + std::ptrdiff_t(std::min(count, refs.size())));
  return out;
}

namespace {

std::vector<std::string> each(const std::vector<std::string>& texts, std::string (*step)(std::string_view)) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) out.push_back(step(t));
  return out;
}

References each(const References& references, std::string (*step)(std::string_view)) {
  References out;
  out.reserve(references.size());
  for (const auto& refs : references) out.push_back(each(refs, step));
  return out;
}

}  // namespace

BleuTer score_webnlg(const std::vector<std::string>& outputs, const References& references) {
  PETL_CHECK(outputs.size() == references.size(), "WebNLG scores: ", outputs.size(), " outputs but ",
             references.size(), " inputs");
  const std::vector<std::string> hyps = each(outputs, webnlg_challenge_output);
  const References refs = each(first_references(references, 3), webnlg_challenge_reference);
  BleuTer s;
  // bleu_eval_3ref.sh: multi-bleu.perl -lc gold-*-reference{0,1,2}.lex < hypotheses
  s.bleu = 100 * multi_bleu(hyps, padded_references(refs, 3), /*lowercase=*/true).bleu;
  // ter_eval.sh: tercom -h hyp_ter.txt -r gold-*-reference-3ref.ter (up to 3 references, unpadded)
  s.ter = ter(hyps, refs);
  return s;
}

DartScores score_dart(const std::vector<std::string>& outputs, const References& references, Meteor* meteor) {
  PETL_CHECK(outputs.size() == references.size(), "DART scores: ", outputs.size(), " outputs but ",
             references.size(), " inputs");
  const std::vector<std::string> hyps = each(outputs, dart_text);
  const References refs = each(first_references(references, 3), dart_text);
  DartScores s;
  // run_eval_on_dart.sh: multi-bleu.perl all-delex-reference{0,1,2}.lex < hypotheses
  s.bleu = 100 * multi_bleu(hyps, padded_references(refs, 3), /*lowercase=*/false).bleu;
  // prepare_files.py writes reference0 alone for tercom and METEOR
  const References first = first_references(refs, 1);
  s.ter = ter(hyps, first);
  if (meteor) s.meteor = meteor->corpus_score(hyps, first);
  return s;
}

XsumScores score_xsum(const std::vector<std::string>& outputs, const std::vector<std::string>& summaries) {
  const RougeCorpus c = rouge_corpus_mean_f1(outputs, summaries);
  return {c.rouge1, c.rouge2, c.rougeL, c.rougeLsum};
}

}  // namespace petl::metrics

// The two PTBTokenizer runs of pycocoevalcap's COCOEvalCap.evaluate (eval.py): references
// (gts) and outputs (res) are tokenized separately, each as one file of lines.
#include "train/metrics/coco_caption.h"
#include "train/metrics/ptb_tokenizer.h"

namespace petl::metrics {

References coco_tokenize_references(const References& references) {
  std::vector<std::string> flat;
  for (const auto& refs : references) flat.insert(flat.end(), refs.begin(), refs.end());
  const std::vector<std::string> tokenized = coco_tokenize_lines(flat);
  References out;
  std::size_t next = 0;
  for (const auto& refs : references) {
    out.emplace_back(tokenized.begin() + std::ptrdiff_t(next), tokenized.begin() + std::ptrdiff_t(next + refs.size()));
    next += refs.size();
  }
  return out;
}

std::vector<std::string> coco_tokenize_outputs(const std::vector<std::string>& outputs) {
  return coco_tokenize_lines(outputs);
}

}  // namespace petl::metrics

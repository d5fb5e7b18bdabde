// The tasks `train finetune` / `eval` know, as source -> target text pairs for a causal LM:
//
//   e2e    <dir>/trainset.csv, devset.csv, testset.csv (mr,ref); source = the MR linearized as the
//          LoRA / prefix-tuning files do it ("name : X | Type : Y | ..."), target = the raw reference;
//          decoding and scoring go over the distinct MRs in file order, each with all its references
//          (the E2E challenge scorer's input: one output line per MR)
//   webnlg <dir>/train, dev, test: directories of WebNLG 2017 XML; one input per entry, source = its
//          modified triples linearized as LoRA does, targets = its lexicalisations
//   dart   <dir>/dart-v1.1.1-full-{train,dev,test}.json; source = the triples (LoRA form)
//   xsum   <dir>/{train,dev,test}.jsonl (document, summary)
//   jsonl  <dir>/train.jsonl, dev.jsonl, test.jsonl: one {"source": ..., "target": ...} per line;
//          references grouped by identical source
//
// A malformed row is an error naming the file, the line and what was expected.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "train/metrics/task_scores.h"

namespace petl::tool {

const std::vector<std::string>& task_names();

struct TaskSplit {
  std::vector<std::pair<std::string, std::string>> pairs;  // (source, target), one per reference
  std::vector<std::string> inputs;                         // distinct sources, in file order
  std::vector<std::string> shown_inputs;                   // what a reader sees (the raw MR for E2E)
  metrics::References references;                          // references[i] belong to inputs[i]
  std::string file;
};

// The file of `split` ("train", "dev", "test") of `task` under `dir`.
std::string task_split_file(const std::string& task, const std::string& dir, const std::string& split);
TaskSplit load_task_file(const std::string& task, const std::string& file);

// The task's official metrics for decoded outputs (train/metrics/task_scores.h): E2E BLEU, NIST,
// METEOR (when `meteor_data` is non-empty), ROUGE-L, CIDEr; WebNLG BLEU, TER; DART BLEU, TER,
// METEOR; XSum ROUGE-1/2/L/Lsum; jsonl BLEU (multi-bleu.perl, cased) over all references.
std::map<std::string, double> score_task(const std::string& task, const std::vector<std::string>& outputs,
                                         const metrics::References& references, const std::string& meteor_data);

}  // namespace petl::tool

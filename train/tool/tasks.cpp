#include "train/tool/tasks.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "tensor/error.h"
#include "train/data/dart.h"
#include "train/data/e2e.h"
#include "train/data/webnlg.h"
#include "train/data/xsum.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"
#include "train/metrics/bleu_multi.h"
#include "train/metrics/meteor.h"

namespace petl::tool {
namespace {

// Groups (source, target) pairs by source, keeping first-appearance order.
void group_references(TaskSplit& split) {
  std::map<std::string, size_t> index;
  for (const auto& [source, target] : split.pairs) {
    const auto it = index.find(source);
    if (it == index.end()) {
      index[source] = split.inputs.size();
      split.inputs.push_back(source);
      split.references.push_back({target});
    } else {
      split.references[it->second].push_back(target);
    }
  }
}

TaskSplit load_e2e(const std::string& file) {
  TaskSplit split;
  split.file = file;
  std::map<std::string, std::string> shown;
  data::for_each_e2e_row(file, [&](const data::E2eRow& row) {
    const std::string source = data::linearize_e2e_mr(row.mr, file + ":" + std::to_string(row.line));
    split.pairs.emplace_back(source, row.ref);
    shown.emplace(source, row.mr);
  });
  group_references(split);
  for (const auto& input : split.inputs) split.shown_inputs.push_back(shown.at(input));
  return split;
}

TaskSplit load_jsonl(const std::string& file) {
  TaskSplit split;
  split.file = file;
  data::for_each_line(file, [&](std::string_view line, int64_t number) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
    const std::string where = file + ":" + std::to_string(number);
    const nlohmann::json row = data::parse_json(line, file, number);
    PETL_CHECK(row.is_object(), where, ": expected a JSON object {\"source\": ..., \"target\": ...}");
    const std::string& source = data::json_string(data::json_member(row, "source", where), where + ".source");
    const std::string& target = data::json_string(data::json_member(row, "target", where), where + ".target");
    PETL_CHECK(!source.empty(), where, ": \"source\" is empty");
    split.pairs.emplace_back(source, target);
    return true;
  });
  PETL_CHECK(!split.pairs.empty(), file, ": no rows");
  group_references(split);
  split.shown_inputs = split.inputs;
  return split;
}

// One input per entry (the official scorers' order), with every reference it has.
void add_input(TaskSplit& split, const std::string& source, const std::vector<std::string>& targets) {
  for (const auto& t : targets) split.pairs.emplace_back(source, t);
  split.inputs.push_back(source);
  split.shown_inputs.push_back(source);
  split.references.push_back(targets);
}

TaskSplit load_webnlg(const std::string& path) {
  TaskSplit split;
  split.file = path;
  for (const auto& entry : data::read_webnlg(path)) {
    std::vector<std::string> texts;
    for (const auto& lex : entry.lexicalisations)
      if (lex.has_text) texts.push_back(lex.text);
    add_input(split, data::linearize_webnlg_lora(entry), texts);
  }
  PETL_CHECK(!split.inputs.empty(), path, ": no WebNLG entries");
  return split;
}

TaskSplit load_dart(const std::string& path) {
  TaskSplit split;
  split.file = path;
  for (const auto& entry : data::read_dart(path)) {
    std::vector<std::string> texts;
    for (const auto& a : entry.annotations) texts.push_back(a.text);
    add_input(split, data::linearize_dart(entry), texts);
  }
  PETL_CHECK(!split.inputs.empty(), path, ": no DART entries");
  return split;
}

TaskSplit load_xsum(const std::string& path) {
  TaskSplit split;
  split.file = path;
  data::for_each_xsum_jsonl(path, [&](const data::XsumExample& ex) { add_input(split, ex.document, {ex.summary}); });
  PETL_CHECK(!split.inputs.empty(), path, ": no XSum examples");
  return split;
}

}  // namespace

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"e2e", "webnlg", "dart", "xsum", "jsonl"};
  return names;
}

std::string task_split_file(const std::string& task, const std::string& dir, const std::string& split) {
  PETL_CHECK(split == "train" || split == "dev" || split == "test", "unknown split '", split,
             "' (valid: train, dev, test)");
  if (task == "e2e") return dir + "/" + split + "set.csv";
  if (task == "webnlg") return dir + "/" + split;  // a directory of XML files
  if (task == "dart") return dir + "/dart-v1.1.1-full-" + split + ".json";
  if (task == "xsum" || task == "jsonl") return dir + "/" + split + ".jsonl";
  std::string valid;
  for (const auto& t : task_names()) valid += (valid.empty() ? "" : ", ") + t;
  throw Error("unknown task '" + task + "' (valid: " + valid + ")");
}

TaskSplit load_task_file(const std::string& task, const std::string& file) {
  if (task == "e2e") return load_e2e(file);
  if (task == "jsonl") return load_jsonl(file);
  if (task == "webnlg") return load_webnlg(file);
  if (task == "dart") return load_dart(file);
  if (task == "xsum") return load_xsum(file);
  std::string valid;
  for (const auto& t : task_names()) valid += (valid.empty() ? "" : ", ") + t;
  throw Error("unknown task '" + task + "' (valid: " + valid + ")");
}

std::map<std::string, double> score_task(const std::string& task, const std::vector<std::string>& outputs,
                                         const metrics::References& references, const std::string& meteor_data) {
  PETL_CHECK(outputs.size() == references.size(), "score: ", outputs.size(), " outputs for ", references.size(),
             " inputs");
  std::map<std::string, double> scores;
  // multi-bleu.perl divides by the output length: with every output empty its BLEU is undefined
  // (WebNLG, DART, jsonl); report BLEU 0 (what sacrebleu gives) and nothing else, and say so.
  if (task != "e2e" && task != "xsum" &&
      std::all_of(outputs.begin(), outputs.end(), [](const std::string& o) { return o.empty(); })) {
    std::fprintf(stderr, "score: every output is empty; BLEU reported as 0, no other metric computed\n");
    return {{"bleu", 0.0}};
  }
  if (task == "e2e") {
    std::unique_ptr<metrics::Meteor> meteor;
    if (!meteor_data.empty()) meteor = std::make_unique<metrics::Meteor>(meteor_data);
    const metrics::E2EScores s = metrics::score_e2e(outputs, references, meteor.get());
    scores = {{"bleu", s.bleu}, {"nist", s.nist}, {"rouge_l", s.rouge_l}, {"cider", s.cider}};
    if (s.meteor) scores["meteor"] = *s.meteor;
    return scores;
  }
  try {
    if (task == "webnlg") {
      const metrics::BleuTer s = metrics::score_webnlg(outputs, references);
      return {{"bleu", s.bleu}, {"ter", s.ter}};
    }
    if (task == "dart") {
      std::unique_ptr<metrics::Meteor> meteor;
      if (!meteor_data.empty()) meteor = std::make_unique<metrics::Meteor>(meteor_data);
      const metrics::DartScores s = metrics::score_dart(outputs, references, meteor.get());
      scores = {{"bleu", s.bleu}, {"ter", s.ter}};
      if (s.meteor) scores["meteor"] = *s.meteor;
      return scores;
    }
  } catch (const Error& e) {
    // Outputs so short that every closest reference is a padding (empty) one: multi-bleu.perl
    // prints BLEU = 0 and stops, and so does this.
    if (std::string(e.what()).find("references hold no words") == std::string::npos) throw;
    std::fprintf(stderr, "score: %s; BLEU reported as 0, no other metric computed\n", e.what());
    return {{"bleu", 0.0}};
  }
  if (task == "xsum") {
    std::vector<std::string> summaries;
    for (const auto& r : references) summaries.push_back(r.empty() ? std::string() : r[0]);
    const metrics::XsumScores s = metrics::score_xsum(outputs, summaries);
    return {{"rouge1", s.rouge1}, {"rouge2", s.rouge2}, {"rougeL", s.rougeL}, {"rougeLsum", s.rougeLsum}};
  }
  size_t most = 1;
  for (const auto& r : references) most = std::max(most, r.size());
  scores["bleu"] = 100 * metrics::multi_bleu(outputs, metrics::padded_references(references, most), false).bleu;
  return scores;
}

}  // namespace petl::tool

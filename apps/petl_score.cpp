// petl_score: scores any system's outputs with a task's official metrics.
//
//   petl_score --task e2e|webnlg|dart|xsum --refs REFS --outputs OUT.txt
//              [--meteor-data DIR] [--no-meteor] [--webnlg-good-only]
//
// REFS is the task's evaluation file in its official format (E2E: the CSV with mr,ref columns;
// WebNLG: the 2017 XML directory or file; DART: the JSON; XSum: the JSONL). OUT.txt holds one
// output line per distinct input, in order of first appearance in REFS. Prints one
// "METRIC VALUE" line per metric, in the official scorer's scale (E2E: BLEU NIST METEOR ROUGE_L
// CIDEr; WebNLG: BLEU and TER for all / seen / unseen categories; DART: BLEU METEOR TER; XSum:
// ROUGE-1/2/L/Lsum mean F1). WebNLG and DART outputs and references first go through the text
// steps of the official evaluations (tokenized at every \W character, lowercased, WebNLG also
// transliterated to ASCII; train/metrics/data_to_text_text.h), so raw outputs score as the official
// scripts score them. METEOR needs its data files (--meteor-data, or PETL_METEOR_DATA);
// without them the METEOR line is replaced by a note on stderr, never by another number.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "train/data/references.h"
#include "train/data/text_file.h"
#include "train/metrics/meteor.h"
#include "train/metrics/task_scores.h"

namespace {

struct Options {
  std::string task, refs, outputs, meteor_data;
  bool no_meteor = false, webnlg_good_only = false;
};

const char* kUsage =
    "usage: petl_score --task e2e|webnlg|dart|xsum --refs REFS --outputs OUT.txt\n"
    "                  [--meteor-data DIR] [--no-meteor] [--webnlg-good-only]\n";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) {
      PETL_CHECK(i + 1 < argc, "petl_score: ", flag, " needs a value\n", kUsage);
      return std::string(argv[++i]);
    };
    if (a == "--task") o.task = value("--task");
    else if (a == "--refs") o.refs = value("--refs");
    else if (a == "--outputs") o.outputs = value("--outputs");
    else if (a == "--meteor-data") o.meteor_data = value("--meteor-data");
    else if (a == "--no-meteor") o.no_meteor = true;
    else if (a == "--webnlg-good-only") o.webnlg_good_only = true;
    else throw petl::Error("petl_score: unknown argument '" + a + "'\n" + kUsage);
  }
  PETL_CHECK(!o.task.empty() && !o.refs.empty() && !o.outputs.empty(), "petl_score: --task, --refs and --outputs are required\n", kUsage);
  return o;
}

std::vector<std::string> read_outputs(const std::string& path) {
  std::vector<std::string> lines;
  petl::data::for_each_line(path, [&](std::string_view line, int64_t) {
    lines.emplace_back(line);
    return true;
  });
  return lines;
}

// measure_scores.py's read_tsv repairs these encoding slips in the E2E CSV before grouping.
std::string repair_e2e_text(std::string s) {
  const std::pair<const char*, const char*> fixes[] = {{"Ł", "£"}, {"Â£", "£"}, {"Ã©", "é"}, {"ã©", "é"}};
  for (const auto& [from, to] : fixes) {
    std::string out;
    for (std::size_t pos = 0;;) {
      const std::size_t hit = s.find(from, pos);
      out += s.substr(pos, hit - pos);
      if (hit == std::string::npos) break;
      out += to;
      pos = hit + std::strlen(from);
    }
    s = std::move(out);
  }
  return s;
}

std::unique_ptr<petl::metrics::Meteor> make_meteor(const Options& o) {
  if (o.no_meteor) {
    std::fprintf(stderr, "petl_score: METEOR skipped (--no-meteor)\n");
    return nullptr;
  }
  const std::filesystem::path dir =
      o.meteor_data.empty() ? petl::metrics::meteor_data_dir_from_env() : std::filesystem::path(o.meteor_data);
  if (dir.empty()) {
    std::fprintf(stderr,
                 "petl_score: METEOR skipped: no data directory (give --meteor-data DIR or set PETL_METEOR_DATA; "
                 "see docs/meteor.md)\n");
    return nullptr;
  }
  return std::make_unique<petl::metrics::Meteor>(dir);
}

void print(const char* name, double value) { std::printf("%s %.4f\n", name, value); }

int run(const Options& o) {
  const petl::data::Task task = petl::data::parse_task(o.task);
  petl::data::ReferenceOptions ref_options;
  ref_options.webnlg_good_only = o.webnlg_good_only;
  petl::data::ReferenceSet refs = petl::data::load_references(task, o.refs, ref_options);
  const std::vector<std::string> outputs = read_outputs(o.outputs);
  if (outputs.size() != refs.size()) {
    std::fprintf(stderr, "petl_score: %s has %zu lines but %s has %zu distinct inputs (one output line per input, "
                 "in order of first appearance)\n", o.outputs.c_str(), outputs.size(), o.refs.c_str(), refs.size());
    return 2;
  }
  using namespace petl::metrics;
  switch (task) {
    case petl::data::Task::e2e: {
      for (auto& r : refs.refs)
        for (auto& text : r) text = repair_e2e_text(text);
      auto meteor = make_meteor(o);
      const E2EScores s = score_e2e(outputs, refs.refs, meteor.get());
      print("BLEU", s.bleu);
      print("NIST", s.nist);
      if (s.meteor) print("METEOR", *s.meteor);
      print("ROUGE_L", s.rouge_l);
      print("CIDEr", s.cider);
      break;
    }
    case petl::data::Task::webnlg: {
      const BleuTer all = score_webnlg(outputs, refs.refs);
      print("BLEU_all", all.bleu);
      for (bool seen : {true, false}) {
        std::vector<std::string> sub_outputs;
        References sub_refs;
        for (std::size_t i = 0; i < refs.size(); ++i)
          if (refs.seen[i] == seen) {
            sub_outputs.push_back(outputs[i]);
            sub_refs.push_back(refs.refs[i]);
          }
        const char* which = seen ? "seen" : "unseen";
        if (sub_outputs.empty()) {
          std::fprintf(stderr, "petl_score: no %s-category inputs in %s, no %s scores\n", which, o.refs.c_str(), which);
          continue;
        }
        const BleuTer s = score_webnlg(sub_outputs, sub_refs);
        print(seen ? "BLEU_seen" : "BLEU_unseen", s.bleu);
        print(seen ? "TER_seen" : "TER_unseen", s.ter);
      }
      print("TER_all", all.ter);
      break;
    }
    case petl::data::Task::dart: {
      auto meteor = make_meteor(o);
      const DartScores s = score_dart(outputs, refs.refs, meteor.get());
      print("BLEU", s.bleu);
      if (s.meteor) print("METEOR", *s.meteor);
      print("TER", s.ter);
      break;
    }
    case petl::data::Task::xsum: {
      std::vector<std::string> summaries;
      for (const auto& r : refs.refs) summaries.push_back(r.at(0));
      const XsumScores s = score_xsum(outputs, summaries);
      print("ROUGE-1", s.rouge1);
      print("ROUGE-2", s.rouge2);
      print("ROUGE-L", s.rougeL);
      print("ROUGE-Lsum", s.rougeLsum);
      break;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const petl::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

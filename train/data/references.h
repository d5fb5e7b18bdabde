// References grouped per input, the form every multi-reference scorer consumes: one entry per
// distinct input of a task's evaluation file, in the order of first appearance in that file (the
// E2E challenge's convention for system outputs: line i of an output file answers inputs[i]).
//
//   E2E     the CSV (mr,ref) read as the E2E scorer reads it (e2e_scorer_csv.h): rows with the
//           same MR grouped, MRs in order of first appearance (or, as an option, runs of
//           consecutive equal MRs, the scorer's own grouping; the same on the dev and test sets).
//   WebNLG  the 2017 XML (a file, or a directory read recursively in sorted path order): one input
//           per <entry>, its <lex> texts as references (all of them, or only comment="good" ones);
//           category and seen/unseen kept per input for the seen/unseen/all split.
//   DART    the JSON list: one input per tripleset object, its annotations' texts as references.
//   XSum    JSONL (document, summary, id): one input per line, the summary as the one reference.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace petl::data {

enum class Task { e2e, webnlg, dart, xsum };

// "e2e" | "webnlg" | "dart" | "xsum"; anything else throws petl::Error listing the four.
Task parse_task(std::string_view name);
const char* task_name(Task task);

struct ReferenceSet {
  Task task = Task::e2e;
  std::string source;                           // the path the references were read from
  // inputs[i]: E2E the MR as written in the CSV; WebNLG and DART the triples linearized as
  // LoRA's format_converting_{webnlg,dart}.py do; XSum the document.
  std::vector<std::string> inputs;
  std::vector<std::vector<std::string>> refs;  // refs[i]: references of inputs[i], in file order
  std::vector<std::string> ids;                // WebNLG "<category>/<size>/<eid>", XSum id, else ""
  std::vector<std::string> categories;         // WebNLG category per input; empty for other tasks
  std::vector<bool> seen;                      // WebNLG: category among the 10 seen in training

  size_t size() const { return inputs.size(); }
  // Largest number of references any input has (multi-bleu style scorers pad to it).
  size_t max_refs() const;
};

struct ReferenceOptions {
  // E2E only: group runs of consecutive identical MRs (measure_scores.py read_and_group_tsv with a
  // plain-text output file) instead of all rows of each distinct MR.
  bool e2e_consecutive_groups = false;
  // WebNLG and DART: one input per distinct linearized source (inputs[i]), references of equal
  // sources merged in order of first appearance, inputs left without references dropped; this is
  // how LoRA's gpt2_decode.py groups them (refer_dict keyed by the context string), giving DART
  // dev 2,721 inputs instead of 2,768 triplesets and WebNLG dev (good only) 870 instead of 872.
  bool group_by_source = false;
  // WebNLG only: keep only lexicalisations with comment="good" (what Li & Liang and LoRA train
  // and evaluate on) instead of every <lex> of the entry. An entry may then have no reference at
  // all (2017 dev: Building Id23); it is kept with an empty list so outputs stay line-aligned.
  bool webnlg_good_only = false;
};

// Reads `path` in the task's official format (see the table above). Throws petl::Error naming the
// file and the line/field on malformed input; an input without any reference is an error too
// (except under webnlg_good_only, see above).
ReferenceSet load_references(Task task, const std::string& path, const ReferenceOptions& options = {});

// The subset of a WebNLG ReferenceSet whose category is seen (true) or unseen (false), keeping
// order; for the seen / unseen / all scores.
ReferenceSet select_seen(const ReferenceSet& all, bool seen);

}  // namespace petl::data

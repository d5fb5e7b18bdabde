#include "train/data/references.h"

#include <algorithm>
#include <unordered_map>

#include "tensor/error.h"
#include "train/data/dart.h"
#include "train/data/e2e_scorer_csv.h"
#include "train/data/webnlg.h"
#include "train/data/xsum.h"

namespace petl::data {

Task parse_task(std::string_view name) {
  if (name == "e2e") return Task::e2e;
  if (name == "webnlg") return Task::webnlg;
  if (name == "dart") return Task::dart;
  if (name == "xsum") return Task::xsum;
  throw Error(detail::concat("unknown task '", name, "': expected e2e, webnlg, dart or xsum"));
}

const char* task_name(Task task) {
  switch (task) {
    case Task::e2e: return "e2e";
    case Task::webnlg: return "webnlg";
    case Task::dart: return "dart";
    case Task::xsum: return "xsum";
  }
  return "?";
}

size_t ReferenceSet::max_refs() const {
  size_t most = 0;
  for (const auto& group : refs) most = std::max(most, group.size());
  return most;
}

namespace {

void add_input(ReferenceSet& set, std::string input, std::vector<std::string> refs, std::string id) {
  set.inputs.push_back(std::move(input));
  set.refs.push_back(std::move(refs));
  set.ids.push_back(std::move(id));
}

// Rows as the E2E scorer reads them (e2e_scorer_csv.h). Grouped by distinct MR in order of first
// appearance, or, as measure_scores.py read_and_group_tsv does for plain-text outputs, by runs of
// consecutive identical MRs; the two agree on devset.csv (547) and on the test set, whose rows
// are grouped, and differ on trainset.csv (4,862 MRs, 42,057 runs).
void load_e2e(ReferenceSet& set, const std::string& path, const ReferenceOptions& options) {
  std::unordered_map<std::string, size_t> index_of_mr;
  for (const E2eRow& row : read_e2e_references_as_scorer(path)) {
    if (options.e2e_consecutive_groups) {
      if (set.inputs.empty() || set.inputs.back() != row.mr) add_input(set, row.mr, {}, "");
      set.refs.back().push_back(row.ref);
      continue;
    }
    const auto [it, is_new] = index_of_mr.emplace(row.mr, set.inputs.size());
    if (is_new) add_input(set, row.mr, {}, "");
    set.refs[it->second].push_back(row.ref);
  }
}

void load_webnlg(ReferenceSet& set, const std::string& path, const ReferenceOptions& options) {
  for (const WebNlgEntry& entry : read_webnlg(path)) {
    std::vector<std::string> refs;
    for (const WebNlgLexicalisation& lex : entry.lexicalisations)
      if (!options.webnlg_good_only || lex.comment == "good") refs.push_back(lex.text);
    // With good_only an entry may keep no reference (2017 dev: Building Id23 has only "toFix"
    // texts); it stays, so outputs stay line-aligned, as in Li & Liang's evaluation loader.
    PETL_CHECK(!refs.empty() || options.webnlg_good_only, entry.file, ":", entry.line, ": entry ", entry.eid,
               " has no <lex> to score against");
    add_input(set, linearize_webnlg_lora(entry), std::move(refs),
              entry.category + "/" + entry.size + "/" + entry.eid);
    set.categories.push_back(entry.category);
    set.seen.push_back(webnlg_is_seen_category(entry.category));
  }
}

void load_dart(ReferenceSet& set, const std::string& path) {
  const std::vector<DartEntry> entries = read_dart(path);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<std::string> refs;
    for (const DartAnnotation& annotation : entries[i].annotations) refs.push_back(annotation.text);
    PETL_CHECK(!refs.empty(), path, ": [", i, "].annotations: empty, no reference to score against");
    add_input(set, linearize_dart(entries[i]), std::move(refs), "");
  }
}

void load_xsum(ReferenceSet& set, const std::string& path) {
  for_each_xsum_jsonl(path, [&](const XsumExample& example) {
    add_input(set, example.document, {example.summary}, example.id);
  });
}

// LoRA gpt2_decode.py: references keyed by the source string, first appearance first.
ReferenceSet group_by_source(const ReferenceSet& all) {
  ReferenceSet grouped;
  grouped.task = all.task;
  grouped.source = all.source;
  std::unordered_map<std::string, size_t> index_of_input;
  for (size_t i = 0; i < all.inputs.size(); ++i) {
    if (all.refs[i].empty()) continue;
    const auto [it, is_new] = index_of_input.emplace(all.inputs[i], grouped.inputs.size());
    if (is_new) {
      add_input(grouped, all.inputs[i], {}, all.ids[i]);
      if (!all.categories.empty()) {
        grouped.categories.push_back(all.categories[i]);
        grouped.seen.push_back(all.seen[i]);
      }
    }
    auto& refs = grouped.refs[it->second];
    refs.insert(refs.end(), all.refs[i].begin(), all.refs[i].end());
  }
  return grouped;
}

}  // namespace

ReferenceSet load_references(Task task, const std::string& path, const ReferenceOptions& options) {
  ReferenceSet set;
  set.task = task;
  set.source = path;
  switch (task) {
    case Task::e2e: load_e2e(set, path, options); break;
    case Task::webnlg: load_webnlg(set, path, options); break;
    case Task::dart: load_dart(set, path); break;
    case Task::xsum: load_xsum(set, path); break;
  }
  if (options.group_by_source) {
    PETL_CHECK(task == Task::webnlg || task == Task::dart, path,
               ": grouping by linearized source applies to webnlg and dart, not ", task_name(task));
    set = group_by_source(set);
  }
  PETL_CHECK(!set.inputs.empty(), path, ": no ", task_name(task), " inputs in this file");
  return set;
}

ReferenceSet select_seen(const ReferenceSet& all, bool seen) {
  PETL_CHECK(all.seen.size() == all.inputs.size(), all.source,
             ": seen/unseen split needs WebNLG references (categories known per input)");
  ReferenceSet subset;
  subset.task = all.task;
  subset.source = all.source;
  for (size_t i = 0; i < all.inputs.size(); ++i) {
    if (all.seen[i] != seen) continue;
    add_input(subset, all.inputs[i], all.refs[i], all.ids[i]);
    subset.categories.push_back(all.categories[i]);
    subset.seen.push_back(all.seen[i]);
  }
  return subset;
}

}  // namespace petl::data

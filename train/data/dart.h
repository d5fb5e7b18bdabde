// DART (Nan et al. 2021; Yale-LILY/dart, data/v1.1.1/dart-v1.1.1-full-{train,dev,test}.json): a
// JSON list of objects {"tripleset": [[s, p, o], ...], "subtree_was_extended": bool (optional),
// "annotations": [{"source": ..., "text": ...}, ...]}. One input per object; its annotations'
// texts are the references. The source strings follow LoRA's format_converting_dart.py (triples.h).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "train/data/triples.h"

namespace petl::data {

struct DartAnnotation {
  std::string source;  // "WikiSQL_decl_sents", "e2e", "webnlg", ...
  std::string text;
};

struct DartEntry {
  std::vector<Triple> triples;
  std::optional<bool> subtree_was_extended;
  std::vector<DartAnnotation> annotations;
};

// Reads a DART JSON file. Errors name the file and line for JSON syntax, and the file and the
// field path (e.g. "[12].tripleset[0]") for wrong structure or types.
std::vector<DartEntry> read_dart(const std::string& path);
// The same over text in memory.
std::vector<DartEntry> parse_dart(std::string_view text, const std::string& source_name);

// "s : p : o | s : p : o" with properties lower-cased (LoRA and Li & Liang alike).
inline std::string linearize_dart(const DartEntry& entry) {
  return linearize_triples(entry.triples, TripleSeparator::between, true);
}

}  // namespace petl::data

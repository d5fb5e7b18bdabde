// WebNLG Challenge 2017 data (Gardent et al. 2017; the official webnlg-dataset XML, version
// "webnlg_challenge_2017"): <benchmark><entries><entry category= eid= size=> holding
// <originaltripleset><otriple>s | p | o</otriple>...</originaltripleset> (one or more),
// <modifiedtripleset><mtriple>...</mtriple></modifiedtripleset> and <lex comment= lid=>text</lex>.
// Also the JSON form Li & Liang and LoRA train from (webnlg_challenge_2017/{train,dev}.json), made
// as the WebNLG corpus reader (benchmark_reader.py, "json" output) writes it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "train/data/triples.h"

namespace petl::data {

struct WebNlgLexicalisation {
  std::string comment;  // "good" or "toFix"
  std::string lid;      // "Id1", ...
  std::string text;
  bool has_text = false;  // false for an empty <lex/>
};

struct WebNlgEntry {
  std::string category;
  std::string eid;
  std::string size;  // as written: the number of triples, "1".."7"
  std::vector<std::vector<Triple>> original_triplesets;
  std::vector<Triple> modified_triples;
  std::vector<WebNlgLexicalisation> lexicalisations;
  std::string file;  // the XML file it came from
  int64_t line = 0;  // line of its <entry> tag
};

// The 10 categories of the 2017 training data ("seen") and the 5 only in its test set ("unseen").
const std::vector<std::string>& webnlg_seen_categories();
const std::vector<std::string>& webnlg_unseen_categories();
bool webnlg_is_seen_category(std::string_view category);

// Entries of one XML file, in document order.
std::vector<WebNlgEntry> read_webnlg_file(const std::string& path);
// The same over XML text in memory; `source_name` is what errors (and WebNlgEntry::file) call it.
std::vector<WebNlgEntry> parse_webnlg(std::string_view xml_text, const std::string& source_name);
// Entries of a file, or of every *.xml under a directory (recursively) in sorted path order.
std::vector<WebNlgEntry> read_webnlg(const std::string& path);

// "s | p | o" -> Triple; `where` names the file and line for errors.
Triple parse_webnlg_triple(std::string_view text, const std::string& where);

// The Li & Liang / LoRA JSON (`{"entries": [{"1": {...}}, ...]}`, json.dumps(indent=4,
// sort_keys=True, ensure_ascii=False), no final newline). Reproduces
// webnlg_challenge_2017/dev.json byte for byte from the dev XML.
std::string webnlg_to_prefix_tuning_json(const std::vector<WebNlgEntry>& entries);

// The source strings of the two papers (see triples.h).
inline std::string linearize_webnlg_lora(const WebNlgEntry& entry) {
  return linearize_triples(entry.modified_triples, TripleSeparator::between, false);
}
inline std::string linearize_webnlg_li_liang(const WebNlgEntry& entry) {
  return linearize_triples(entry.modified_triples, TripleSeparator::leading, false);
}

}  // namespace petl::data

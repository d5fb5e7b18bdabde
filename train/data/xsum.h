// XSum (Narayan, Cohen & Lapata 2018; EdinburghNLP/XSum). Two layouts:
//   JSONL in the Hugging Face `xsum` field layout: one object a line, {"document": ...,
//   "summary": ..., "id": ...} ("id" optional, as in transformers' xsum test fixture), read line
//   by line so large files stream;
//   the original release's preprocessed pair (EdinburghNLP/XSum, scripts/process-corenlp-xml-
//   data.py): DIR/document/ID.document (the article body, one tokenized sentence a line) and
//   DIR/summary/ID.summary (the first sentence), with the ids of each split listed in
//   XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json ({"train": [...], "validation": [...], "test": [...]});
//   and the line-aligned pair NAME.document / NAME.summary (one example a line, as fairseq's and
//   BART's summarization preprocessing writes; a document's own line breaks do not fit there).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace petl::data {

struct XsumExample {
  std::string document;
  std::string summary;
  std::string id;    // empty when the file has none
  int64_t line = 0;  // line in the JSONL file (or in both pair files)
};

// Streams a JSONL file. Blank lines are skipped; any other line must be an object with string
// fields "document" and "summary" ("id", when present, a string or a non-negative integer). Errors name file and line.
void for_each_xsum_jsonl(const std::string& path, const std::function<void(const XsumExample&)>& on_example);
std::vector<XsumExample> read_xsum_jsonl(const std::string& path);
// One JSONL line (for the fuzz target and tests); `source`/`line` name it in errors.
XsumExample parse_xsum_jsonl_line(std::string_view line, const std::string& source, int64_t line_number);

// The ids of one split ("train", "validation" or "test") of XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json.
std::vector<std::string> read_xsum_split_ids(const std::string& split_json_path, const std::string& split);

// DIR/document/ID.document and DIR/summary/ID.summary for each id, in the order given: document and
// summary are the files' text without the final line end (sentences stay one a line). A missing
// file is an error naming it.
std::vector<XsumExample> read_xsum_preprocessed(const std::string& directory, const std::vector<std::string>& ids);

// Reads NAME.document and NAME.summary line by line in step; both must have the same number of
// lines (an error names the shorter file otherwise).
std::vector<XsumExample> read_xsum_pair(const std::string& document_path, const std::string& summary_path);

}  // namespace petl::data

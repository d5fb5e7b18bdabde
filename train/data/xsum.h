// XSum (Narayan, Cohen & Lapata 2018; EdinburghNLP/XSum). Two layouts:
//   JSONL in the Hugging Face `xsum` field layout: one object a line, {"document": ...,
//   "summary": ..., "id": ...} ("id" optional, as in transformers' xsum test fixture), read line
//   by line so large files stream;
//   the line-aligned pair NAME.document / NAME.summary (one example a line, the form fairseq's and
//   BART's summarization preprocessing writes; a document's own line breaks are not representable
//   there).
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

// Reads NAME.document and NAME.summary line by line in step; both must have the same number of
// lines (an error names the shorter file otherwise).
std::vector<XsumExample> read_xsum_pair(const std::string& document_path, const std::string& summary_path);

}  // namespace petl::data

#include "train/data/e2e_scorer_csv.h"

#include "tensor/error.h"
#include "tokenizer/utf8.h"
#include "train/data/csv.h"
#include "train/data/text_file.h"

namespace petl::data {

namespace {

// str.isspace() for code points: the characters Python strips.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// str.splitlines() boundaries other than "\r\n" (handled by the caller).
bool is_python_line_break(char32_t c) {
  return c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

std::vector<std::string> python_splitlines(const std::string& text) {
  std::vector<std::string> lines;
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const char32_t c = tokenizer::utf8::decode(text, pos);
    if (!is_python_line_break(c)) {
      current.append(text, start, pos - start);
      continue;
    }
    if (c == U'\r' && pos < text.size() && text[pos] == '\n') ++pos;
    lines.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) lines.push_back(std::move(current));
  return lines;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

bool starts_with_ignoring_case(const std::string& field, const char* prefix) {
  size_t i = 0;
  for (; prefix[i] != '\0'; ++i) {
    if (i >= field.size()) return false;
    char c = field[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// measure_scores.py HEADER_SRC / HEADER_REF under re.match (a prefix match): the optional tails of
// those patterns never change whether a field matches, so the prefixes decide.
bool is_mr_header(const std::string& field) {
  for (const char* prefix : {"mr", "src", "source", "meaning", "da"})
    if (starts_with_ignoring_case(field, prefix)) return true;
  for (const char* prefix : {"dial_act", "dial act", "dial.act", "dial-act", "dialogue_act", "dialogue act",
                             "dialogue.act", "dialogue-act"})
    if (starts_with_ignoring_case(field, prefix)) return true;
  return false;
}

bool is_ref_header(const std::string& field) {
  for (const char* prefix : {"trg", "tgt", "target", "ref", "human"})
    if (starts_with_ignoring_case(field, prefix)) return true;
  return false;
}

}  // namespace

std::string python_strip(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end) {
    size_t pos = begin;
    if (!is_python_space(tokenizer::utf8::decode(text, pos))) break;
    begin = pos;
  }
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!is_python_space(tokenizer::utf8::decode(text, pos))) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

std::vector<E2eRow> read_e2e_references_as_scorer(const std::string& path) {
  return parse_e2e_references_as_scorer(read_text_file(path), path);
}

std::vector<E2eRow> parse_e2e_references_as_scorer(std::string_view text, const std::string& path) {
  check_utf8(text, path);
  std::vector<std::string> lines = python_splitlines(std::string(text));
  std::vector<std::pair<std::string, int64_t>> kept;  // non-empty stripped lines and their numbers
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line = python_strip(lines[i]);
    if (i == 0) replace_all(line, "\xEF\xBB\xBF", "");  // U+FEFF
    replace_all(line, "Ł", "£");
    replace_all(line, "Â£", "£");
    replace_all(line, "Ã©", "é");
    replace_all(line, "ã©", "é");
    if (!line.empty()) kept.emplace_back(std::move(line), int64_t(i + 1));
  }
  PETL_CHECK(!kept.empty(), path, ": empty file, expected a header such as 'mr,ref'");

  CsvDialect dialect;
  dialect.delimiter = kept[0].first.find('\t') != std::string::npos ? '\t' : ',';
  dialect.quoted_line_end = "";
  std::vector<CsvRecord> records;
  CsvParser parser(path, [&](const CsvRecord& record) {
    records.push_back(record);
    return true;
  }, dialect);
  for (const auto& [line, number] : kept) parser.feed_line(line, number);
  parser.finish();

  const CsvRecord& header = records[0];
  std::vector<size_t> mr_columns, ref_columns;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    if (is_mr_header(header.fields[c])) mr_columns.push_back(c);
    if (is_ref_header(header.fields[c])) ref_columns.push_back(c);
  }
  PETL_CHECK(mr_columns.size() == 1 && ref_columns.size() == 1, path, ":", header.line,
             ": expected a header with one MR column (mr, src, ...) and one reference column (ref, target, ...), found ",
             mr_columns.size(), " and ", ref_columns.size());
  std::vector<E2eRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    PETL_CHECK(record.fields.size() == header.fields.size(), path, ":", record.line, ": expected ",
               header.fields.size(), " fields as in the header, found ", record.fields.size());
    rows.push_back(E2eRow{record.fields[mr_columns[0]], record.fields[ref_columns[0]], record.line});
  }
  return rows;
}

}  // namespace petl::data

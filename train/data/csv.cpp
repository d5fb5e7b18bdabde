#include "train/data/csv.h"

#include "tensor/error.h"
#include "train/data/text_file.h"

namespace petl::data {

CsvParser::CsvParser(std::string source_name, CsvRecordHandler on_record, CsvDialect dialect)
    : source_name_(std::move(source_name)), on_record_(std::move(on_record)), dialect_(std::move(dialect)) {}

void CsvParser::parse_into_record(std::string_view line, int64_t line_number) {
  auto column = [&] { return record_.fields.size(); };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    std::string& field = record_.fields.back();
    if (in_quotes_) {
      if (c != '"') {
        field.push_back(c);
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');  // "" inside quotes is one literal quote
        ++i;
      } else {
        in_quotes_ = false;
        after_closing_quote_ = true;
      }
      continue;
    }
    if (c == dialect_.delimiter) {
      record_.fields.emplace_back();
      after_closing_quote_ = field_was_quoted_ = false;
      continue;
    }
    PETL_CHECK(!after_closing_quote_, source_name_, ":", line_number, ": column ", column(),
               ": expected the delimiter or end of line after the closing quote, found '", c, "'");
    if (c == '"') {
      PETL_CHECK(field.empty(), source_name_, ":", line_number, ": column ", column(),
                 ": quote inside an unquoted field (a field with quotes must be quoted whole)");
      in_quotes_ = field_was_quoted_ = true;
      quote_open_line_ = line_number;
      continue;
    }
    field.push_back(c);
  }
}

bool CsvParser::feed_line(std::string_view line, int64_t line_number) {
  if (in_quotes_) {
    record_.fields.back() += dialect_.quoted_line_end;  // the line end belongs to the quoted field
  } else {
    record_ = CsvRecord{{std::string()}, line_number};
    after_closing_quote_ = field_was_quoted_ = false;
  }
  parse_into_record(line, line_number);
  if (in_quotes_) return true;
  return on_record_(record_);
}

void CsvParser::finish() {
  PETL_CHECK(!in_quotes_, source_name_, ":", quote_open_line_, ": column ", record_.fields.size(),
             ": quoted field opened here is never closed (unbalanced quote)");
}

void for_each_csv_record(const std::string& path, const CsvRecordHandler& on_record) {
  CsvParser parser(path, on_record);
  bool stopped = false;
  for_each_line(path, [&](std::string_view line, int64_t line_number) {
    stopped = !parser.feed_line(line, line_number);
    return !stopped;
  });
  if (!stopped) parser.finish();
}

void for_each_csv_record_in_text(std::string_view text, const std::string& source_name,
                                 const CsvRecordHandler& on_record) {
  check_utf8(text, source_name);
  CsvParser parser(source_name, on_record);
  int64_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!parser.feed_line(line, ++line_number)) return;
    start = end + 1;
  }
  parser.finish();
}

}  // namespace petl::data

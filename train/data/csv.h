// RFC 4180 CSV: fields separated by commas (or another delimiter, CsvDialect), records by line ends; a field may be quoted with '"',
// and then holds commas, line ends and doubled quotes ("" -> "). Strict: a quote inside an unquoted
// field, text after a closing quote, or a quoted field still open at the end of input is an error
// naming the file, the line and the column. Line ends inside quoted fields come back as "\n"
// ("\r\n" is read as a line end everywhere, as text_file.h does).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace petl::data {

struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line where the record starts
};

// Called once per record, the header included; return false to stop reading.
using CsvRecordHandler = std::function<bool(const CsvRecord& record)>;

struct CsvDialect {
  char delimiter = ',';
  // What a line end inside a quoted field becomes. RFC 4180 keeps it ("\n"); Python's csv.reader
  // fed a list of already split lines (as the E2E scorer does) joins them with nothing ("").
  std::string quoted_line_end = "\n";
};

// Assembles records from lines fed in order; a quoted field may span lines.
class CsvParser {
 public:
  CsvParser(std::string source_name, CsvRecordHandler on_record, CsvDialect dialect = {});
  // Returns false when the handler asked to stop.
  bool feed_line(std::string_view line, int64_t line_number);
  // Call after the last line: throws if a quoted field is still open.
  void finish();

 private:
  void parse_into_record(std::string_view line, int64_t line_number);
  std::string source_name_;
  CsvRecordHandler on_record_;
  CsvDialect dialect_;
  CsvRecord record_;
  bool in_quotes_ = false;
  bool after_closing_quote_ = false;
  bool field_was_quoted_ = false;
  int64_t quote_open_line_ = 0;
};

// Streams the records of a UTF-8 CSV file (line by line, so large files never sit in memory).
void for_each_csv_record(const std::string& path, const CsvRecordHandler& on_record);

// The same over text in memory; `source_name` is what errors call it.
void for_each_csv_record_in_text(std::string_view text, const std::string& source_name,
                                 const CsvRecordHandler& on_record);

}  // namespace petl::data

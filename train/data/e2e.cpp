#include "train/data/e2e.h"

#include "tensor/error.h"
#include "tokenizer/utf8.h"
#include "train/data/csv.h"
#include "train/data/text_file.h"

namespace petl::data {

void for_each_e2e_row(const std::string& path, const std::function<void(const E2eRow&)>& on_row) {
  bool header_seen = false;
  for_each_csv_record(path, [&](const CsvRecord& record) {
    if (!header_seen) {
      PETL_CHECK(record.fields.size() == 2 && record.fields[0] == "mr" && record.fields[1] == "ref",
                 path, ":", record.line, ": expected the header 'mr,ref', found ", record.fields.size(),
                 " field(s) starting '", record.fields[0], "'");
      header_seen = true;
      return true;
    }
    PETL_CHECK(record.fields.size() == 2, path, ":", record.line, ": expected 2 fields (mr,ref), found ",
               record.fields.size());
    PETL_CHECK(!record.fields[0].empty(), path, ":", record.line, ": field 'mr' is empty");
    on_row(E2eRow{record.fields[0], record.fields[1], record.line});
    return true;
  });
  PETL_CHECK(header_seen, path, ": empty file, expected the header 'mr,ref'");
}

std::vector<E2eRow> read_e2e_csv(const std::string& path) {
  std::vector<E2eRow> rows;
  for_each_e2e_row(path, [&](const E2eRow& row) { rows.push_back(row); });
  return rows;
}

std::vector<E2eAttribute> parse_e2e_mr(std::string_view mr, const std::string& where) {
  std::vector<E2eAttribute> attributes;
  size_t pos = 0;
  while (pos < mr.size()) {
    const size_t open = mr.find('[', pos);
    PETL_CHECK(open != std::string_view::npos, where, ": MR '", mr, "': expected 'attr[value]' at byte ",
               pos, ", found no '['");
    const size_t close = mr.find(']', open);
    PETL_CHECK(close != std::string_view::npos, where, ": MR '", mr, "': '[' at byte ", open,
               " is never closed by ']'");
    E2eAttribute attribute{std::string(mr.substr(pos, open - pos)),
                           std::string(mr.substr(open + 1, close - open - 1))};
    PETL_CHECK(!attribute.name.empty(), where, ": MR '", mr, "': empty attribute name at byte ", pos);
    attributes.push_back(std::move(attribute));
    pos = close + 1;
    if (pos == mr.size()) break;
    PETL_CHECK(mr.substr(pos, 2) == ", ", where, ": MR '", mr, "': expected ', ' after ']' at byte ",
               pos);
    pos += 2;
    PETL_CHECK(pos < mr.size(), where, ": MR '", mr, "': ends with ', '");
  }
  PETL_CHECK(!attributes.empty(), where, ": empty MR");
  return attributes;
}

namespace {
// PEFT.md §19.1: the three attributes the LoRA / prefix-tuning files rename.
std::string linearized_attribute_name(const std::string& name) {
  if (name == "eatType") return "Type";
  if (name == "priceRange") return "price";
  if (name == "familyFriendly") return "family friendly";
  return name;
}

bool is_ascii_alnum(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9');
}
// Non-ASCII code points are word characters (letters such as 'é') except the punctuation and
// symbol ranges: Latin-1 U+00A1-U+00BF (£ is U+00A3), × and ÷, General Punctuation U+2000-U+206F
// (dashes, quotes) and Currency Symbols U+20A0-U+20CF (€). U+00A0, no-break space, is a space.
bool is_non_ascii_symbol(char32_t c) {
  return (c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
         (c >= 0x20A0 && c <= 0x20CF);
}
bool is_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0xA0; }
}  // namespace

std::string e2e_word_tokenize(std::string_view text) {
  check_utf8(text, "e2e_word_tokenize");
  std::string out;
  auto separate = [&] {
    if (!out.empty() && out.back() != ' ') out.push_back(' ');
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const char32_t c = tokenizer::utf8::decode(text, pos);
    if (is_space(c)) {
      separate();
    } else if (is_ascii_alnum(c) || (c >= 0x80 && !is_non_ascii_symbol(c))) {
      tokenizer::utf8::append(out, c);
    } else if (c == U'\'' && !out.empty() && out.back() != ' ' && pos < text.size() &&
               is_ascii_alnum(char32_t(text[pos]))) {
      separate();  // clitics: "isn't" -> "isn 't", "there's" -> "there 's"
      out.push_back('\'');
    } else {
      separate();
      tokenizer::utf8::append(out, c);
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string linearize_e2e_mr(std::string_view mr, const std::string& where) {
  std::string out;
  for (const E2eAttribute& attribute : parse_e2e_mr(mr, where)) {
    if (!out.empty()) out += " | ";
    out += linearized_attribute_name(attribute.name) + " : " + e2e_word_tokenize(attribute.value);
  }
  return out;
}

void for_each_source_target_line(const std::string& path,
                                 const std::function<void(const SourceTargetLine&)>& on_line) {
  for_each_line(path, [&](std::string_view line, int64_t line_number) {
    if (line.empty()) return true;
    const size_t bar = line.find("||");
    PETL_CHECK(bar != std::string_view::npos, path, ":", line_number,
               ": expected 'source||target', found no '||'");
    PETL_CHECK(line.find("||", bar + 2) == std::string_view::npos, path, ":", line_number,
               ": expected one '||' separating source and target, found more");
    on_line(SourceTargetLine{std::string(line.substr(0, bar)), std::string(line.substr(bar + 2)),
                             line_number});
    return true;
  });
}

}  // namespace petl::data

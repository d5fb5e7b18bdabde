#include "tokenizer/vocab_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "tokenizer/error.h"
#include "tokenizer/utf8.h"

namespace petl::tokenizer {

namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// "vocab.json:3 (byte 17)": the line alone is useless for GPT-2's encoder.json, one 1 MB line.
std::string position_text(const std::string& name, std::size_t line, std::size_t offset) {
  return name + ":" + std::to_string(line) + " (byte " + std::to_string(offset) + ")";
}

// A reader for the one JSON shape a vocabulary file has: a flat object of string -> integer.
// Hand-written so that every error can name its line.
class VocabJsonReader {
 public:
  VocabJsonReader(std::string_view text, std::string name) : s_(text), path_(std::move(name)) {}

  struct Item {
    std::string token;
    std::int64_t id;
    std::size_t line;
    std::size_t offset;  // of the token's opening quote
  };

  std::vector<Item> parse() {
    std::vector<Item> items;
    skip_space();
    expect('{', "'{' opening the vocabulary object");
    skip_space();
    if (peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        Item item;
        item.line = line_;
        item.offset = i_;
        item.token = parse_string();
        skip_space();
        expect(':', "':' after the token string");
        skip_space();
        item.id = parse_id();
        items.push_back(std::move(item));
        skip_space();
        if (peek() == ',') {
          ++i_;
          skip_space();
          continue;
        }
        expect('}', "',' or '}' after a token id");
        break;
      }
    }
    skip_space();
    if (i_ < s_.size()) fail("end of file after the closing '}'");
    return items;
  }

 private:
  int peek() const { return i_ < s_.size() ? static_cast<unsigned char>(s_[i_]) : -1; }

  std::string got() const {
    if (i_ >= s_.size()) return "end of file";
    const auto c = static_cast<unsigned char>(s_[i_]);
    if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
    return buf;
  }

  [[noreturn]] void fail(const std::string& expected) const {
    throw TokenizerError(position_text(path_, line_, i_) + ": expected " + expected + ", got " + got());
  }

  void expect(char c, const char* what) {
    if (peek() != static_cast<unsigned char>(c)) fail(what);
    ++i_;
  }

  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      if (s_[i_] == '\n') ++line_;
      ++i_;
    }
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const int c = peek();
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else fail("4 hex digits after \\u");
      v = v * 16 + static_cast<unsigned>(d);
      ++i_;
    }
    return v;
  }

  std::string parse_string() {
    expect('"', "'\"' starting a token string");
    std::string out;
    for (;;) {
      const int c = peek();
      if (c < 0) fail("'\"' closing the token string");
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) fail("a string character (control characters must be escaped)");
      if (c == '\\') {
        ++i_;
        const int e = peek();
        ++i_;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            char32_t cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (peek() != '\\') fail("a \\uDC00-\\uDFFF low surrogate after a high surrogate");
              ++i_;
              if (peek() != 'u') fail("a \\uDC00-\\uDFFF low surrogate after a high surrogate");
              ++i_;
              const char32_t lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("a \\uDC00-\\uDFFF low surrogate after a high surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("a code point, not a lone low surrogate");
            }
            utf8::append(out, cp);
            break;
          }
          default:
            --i_;
            fail("one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      const std::size_t start = i_;
      try {
        utf8::decode(s_, i_);
      } catch (const TokenizerError& e) {
        fail(std::string("valid UTF-8 (") + e.what() + ")");
      }
      out.append(s_, start, i_ - start);
    }
  }

  std::int64_t parse_id() {
    const int c = peek();
    if (c < '0' || c > '9') fail("a non-negative integer token id");
    if (c == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') fail("a token id without leading zeros");
    std::int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > std::numeric_limits<TokenId>::max()) fail("a token id below 2^31");
      ++i_;
    }
    const int after = peek();
    if (after == '.' || after == 'e' || after == 'E') fail("an integer token id");
    return v;
  }

  std::string_view s_;
  std::string path_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
};

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t pos = 0;
  char buf[16];
  while (pos < s.size()) {
    const char32_t cp = utf8::decode(s, pos);
    if (cp == '"') out += "\\\"";
    else if (cp == '\\') out += "\\\\";
    else if (cp >= 0x20 && cp < 0x7F) out += static_cast<char>(cp);
    else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      const char32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                    static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      out += buf;
    }
  }
  out += '"';
}

}  // namespace

std::string read_file(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    const bool exists = std::filesystem::exists(path, ec);
    throw TokenizerError(std::string("cannot open ") + what + " '" + path.string() + "': " +
                         (exists ? "not a regular file" : "no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(std::string("cannot open ") + what + " '" + path.string() + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw TokenizerError(std::string("error reading ") + what + " '" + path.string() + "'");
  return std::move(ss).str();
}

VocabFile parse_vocab_json(std::string_view text, const std::string& name) {
  using Item = VocabJsonReader::Item;
  const std::vector<Item> items = VocabJsonReader(text, name).parse();
  VocabFile out;
  out.name = name;
  std::unordered_map<std::string_view, std::size_t> index_of_item;
  out.tokens.resize(items.size());
  out.lines.assign(items.size(), 0);
  out.offsets.assign(items.size(), 0);
  std::vector<const Item*> item_of_id(items.size(), nullptr);
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto& item = items[k];
    const std::string at = position_text(name, item.line, item.offset);
    if (item.token.empty()) throw TokenizerError(at + ": expected a non-empty token string, got \"\"");
    auto [it, fresh] = index_of_item.emplace(item.token, k);
    if (!fresh) {
      const auto& first = items[it->second];
      throw TokenizerError(at + ": token " + in_quotes(item.token) + " appears a second time (first on line " +
                           std::to_string(first.line) + ", byte " + std::to_string(first.offset) + ")");
    }
    if (item.id >= static_cast<std::int64_t>(items.size())) {
      throw TokenizerError(at + ": token " + in_quotes(item.token) + " has id " + std::to_string(item.id) +
                           ", expected an id below " + std::to_string(items.size()) +
                           " (a vocabulary of N tokens uses ids 0..N-1)");
    }
    const auto id = static_cast<std::size_t>(item.id);
    if (const Item* other = item_of_id[id]) {
      throw TokenizerError(at + ": id " + std::to_string(id) + " of token " + in_quotes(item.token) +
                           " is already used by " + in_quotes(other->token) + " on line " +
                           std::to_string(other->line) + ", byte " + std::to_string(other->offset));
    }
    item_of_id[id] = &item;
    out.tokens[id] = item.token;
    out.lines[id] = item.line;
    out.offsets[id] = item.offset;
  }
  return out;
}

VocabFile read_vocab_json(const std::filesystem::path& path) {
  return parse_vocab_json(read_file(path, "vocabulary file"), path.string());
}

std::string VocabFile::where(std::size_t id) const { return position_text(name, lines.at(id), offsets.at(id)); }

MergesFile parse_merges(std::string_view text, const std::string& name) {
  const std::string where = name + ":";
  MergesFile out;
  out.name = name;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_no == 1 && line.starts_with("#version")) continue;
    const std::size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      throw TokenizerError(where + std::to_string(line_no) +
                           ": expected two symbols separated by one space, got " + in_quotes(line));
    }
    out.merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
    out.lines.push_back(line_no);
  }
  return out;
}

MergesFile read_merges(const std::filesystem::path& path) {
  return parse_merges(read_file(path, "merges file"), path.string());
}

std::string MergesFile::where(std::size_t rank) const { return name + ":" + std::to_string(lines.at(rank)); }

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw TokenizerError("cannot create '" + tmp.string() + "': " + std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw TokenizerError("cannot write '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw TokenizerError("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

void write_vocab_json(const std::vector<std::string>& tokens, const std::filesystem::path& path) {
  std::string out = "{";
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    out += id == 0 ? "\n  " : ",\n  ";
    try {
      append_json_string(out, tokens[id]);
    } catch (const TokenizerError& e) {
      throw TokenizerError("cannot write '" + path.string() + "': token " + std::to_string(id) + ": " + e.what());
    }
    out += ": ";
    out += std::to_string(id);
  }
  out += "\n}\n";
  write_file_atomic(path, out);
}

void write_merges(const std::vector<std::pair<std::string, std::string>>& merges, const std::filesystem::path& path) {
  std::string out = "#version: 0.2\n";
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    for (const std::string* s : {&left, &right}) {
      if (s->empty() || s->find_first_of(" \n\r") != std::string::npos) {
        throw TokenizerError("cannot write '" + path.string() + "': merge " + std::to_string(rank) + " symbol " +
                             in_quotes(*s) + " is empty or holds a space or line break");
      }
    }
    out += left;
    out += ' ';
    out += right;
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace petl::tokenizer

#include "train/data/xml.h"

#include "tensor/error.h"
#include "tokenizer/utf8.h"
#include "train/data/text_file.h"

namespace petl::data {

const std::string* XmlElement::attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return &v;
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::children_named(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& child : children)
    if (child.name == child_name) out.push_back(&child);
  return out;
}

namespace {

constexpr int kMaxDepth = 512;  // deeper nesting is refused rather than recursed into

class XmlParser {
 public:
  XmlParser(std::string text, const std::string& source) : text_(std::move(text)), source_(source) {}

  XmlElement parse_document() {
    skip_misc();
    fail_unless(peek() == '<', "expected the root element");
    XmlElement root = parse_element(0);
    skip_misc();
    fail_unless(at_end(), "expected nothing after the root element's end tag");
    return root;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool starts_with(std::string_view s) const { return std::string_view(text_).substr(pos_, s.size()) == s; }

  // Line and column (1-based, columns in bytes) of byte offset `at`.
  std::pair<int64_t, int64_t> location(size_t at) const {
    int64_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return {line, column};
  }

  // Line of byte offset `at`, counted on from the previous query (element starts come in order).
  int64_t line_at(size_t at) {
    if (at < counted_to_) counted_to_ = 0, counted_line_ = 1;
    for (; counted_to_ < at && counted_to_ < text_.size(); ++counted_to_) counted_line_ += text_[counted_to_] == '\n';
    return counted_line_;
  }

  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    const auto [line, column] = location(at);
    std::string found = "end of input";
    if (at < text_.size()) {
      const auto byte = static_cast<unsigned char>(text_[at]);
      static const char* hex = "0123456789ABCDEF";
      if (byte == '\n') found = "end of line";
      else if (byte < 0x20 || byte >= 0x80) found = std::string("byte 0x") + hex[byte >> 4] + hex[byte & 15];
      else found = "'" + std::string(1, char(byte)) + "'";
    }
    throw Error(detail::concat(source_, ":", line, ":", column, ": ", what, ", found ", found));
  }
  void fail_unless(bool ok, const std::string& what) const {
    if (!ok) fail_at(pos_, what);
  }

  void expect(std::string_view s, const std::string& what) {
    fail_unless(starts_with(s), what);
    pos_ += s.size();
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  // XML 1.0 §2.2: no control characters other than tab, line feed and carriage return.
  void check_char(char c) const {
    if (static_cast<unsigned char>(c) < 0x20 && !is_space(c))
      fail_at(pos_, "control character U+00" + std::string(1, "0123456789ABCDEF"[(c >> 4) & 1]) +
                        "0123456789ABCDEF"[c & 15] + " is not allowed in XML");
  }
  void skip_space() {
    while (!at_end() && is_space(peek())) ++pos_;
  }

  static bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  static bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
  }
  std::string parse_name(const std::string& what) {
    fail_unless(!at_end() && is_name_start(peek()), "expected " + what);
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // Comments, processing instructions (the XML declaration among them) and whitespace.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts_with("<!--")) {
        skip_comment();
      } else if (starts_with("<?")) {
        skip_processing_instruction();
      } else if (starts_with("<!DOCTYPE")) {
        fail_at(pos_, "DOCTYPE declarations are not supported; expected an element");
      } else {
        return;
      }
    }
  }

  void skip_comment() {
    const size_t start = pos_;
    pos_ += 4;
    const size_t end = text_.find("--", pos_);
    if (end == std::string::npos) fail_at(start, "comment never closed by '-->'");
    if (text_.compare(end, 3, "-->") != 0) fail_at(end, "'--' inside a comment (expected '-->')");
    pos_ = end + 3;
  }

  void skip_processing_instruction() {
    const size_t start = pos_;
    pos_ += 2;
    const std::string target = parse_name("a processing-instruction target after '<?'");
    if (target == "xml" && start != 0) fail_at(start, "XML declaration allowed only at the start");
    const size_t end = text_.find("?>", pos_);
    if (end == std::string::npos) fail_at(start, "processing instruction never closed by '?>'");
    pos_ = end + 2;
  }

  // Decodes one reference starting at '&' and appends its text to `out`.
  void parse_reference(std::string& out) {
    const size_t start = pos_;
    ++pos_;
    const size_t semicolon = text_.find(';', pos_);
    if (semicolon == std::string::npos || semicolon - pos_ > 16)
      fail_at(start, "'&' must start an entity or character reference ending in ';' (write &amp;)");
    const std::string_view body = std::string_view(text_).substr(pos_, semicolon - pos_);
    pos_ = semicolon + 1;
    if (body == "amp") { out += '&'; return; }
    if (body == "lt") { out += '<'; return; }
    if (body == "gt") { out += '>'; return; }
    if (body == "quot") { out += '"'; return; }
    if (body == "apos") { out += '\''; return; }
    if (body.empty() || body[0] != '#')
      fail_at(start, "unknown entity '&" + std::string(body) +
                         ";' (expected &amp; &lt; &gt; &quot; &apos; or &#N;)");
    const bool hex = body.size() > 1 && body[1] == 'x';
    const std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) fail_at(start, "character reference without digits");
    uint32_t code = 0;
    for (char d : digits) {
      int value = -1;
      if (d >= '0' && d <= '9') value = d - '0';
      else if (hex && d >= 'a' && d <= 'f') value = d - 'a' + 10;
      else if (hex && d >= 'A' && d <= 'F') value = d - 'A' + 10;
      if (value < 0) fail_at(start, "bad digit '" + std::string(1, d) + "' in character reference");
      code = code * (hex ? 16 : 10) + uint32_t(value);
      if (code > 0x10FFFF) fail_at(start, "character reference beyond U+10FFFF");
    }
    // XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
    const bool allowed = code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
                         (code >= 0xE000 && code <= 0xFFFD) || code >= 0x10000;
    if (!allowed) fail_at(start, "character reference to a code point XML does not allow");
    tokenizer::utf8::append(out, char32_t(code));
  }

  std::string parse_attribute_value() {
    const char quote = peek();
    fail_unless(quote == '"' || quote == '\'', "expected a quoted attribute value");
    ++pos_;
    std::string value;
    for (;;) {
      fail_unless(!at_end(), std::string("attribute value never closed by ") + quote);
      const char c = peek();
      if (c == quote) break;
      fail_unless(c != '<', "'<' is not allowed in an attribute value");
      if (c == '&') {
        parse_reference(value);
        continue;
      }
      check_char(c);
      value.push_back(is_space(c) ? ' ' : c);  // §3.3.3 attribute-value normalization
      ++pos_;
    }
    ++pos_;
    return value;
  }

  XmlElement parse_element(int depth) {
    if (depth >= kMaxDepth) fail_at(pos_, "elements nested deeper than 512 levels");
    XmlElement element;
    element.line = line_at(pos_);
    expect("<", "expected '<'");
    element.name = parse_name("an element name after '<'");
    for (;;) {
      const bool had_space = !at_end() && is_space(peek());
      skip_space();
      if (starts_with("/>")) {
        pos_ += 2;
        return element;
      }
      if (peek() == '>') {
        ++pos_;
        break;
      }
      fail_unless(had_space, "expected whitespace, '>' or '/>' in the start tag of <" + element.name + ">");
      const size_t name_at = pos_;
      std::string key = parse_name("an attribute name, '>' or '/>' in <" + element.name + ">");
      if (element.attribute(key) != nullptr) fail_at(name_at, "attribute '" + key + "' repeated");
      skip_space();
      expect("=", "expected '=' after attribute '" + key + "'");
      skip_space();
      element.attributes.emplace_back(std::move(key), parse_attribute_value());
    }
    parse_content(element, depth);
    return element;
  }

  void parse_content(XmlElement& element, int depth) {
    for (;;) {
      fail_unless(!at_end(), "expected </" + element.name + "> (element opened at line " +
                                 std::to_string(element.line) + ")");
      const char c = peek();
      if (c == '&') {
        parse_reference(element.text);
      } else if (c != '<') {
        fail_unless(!starts_with("]]>"), "']]>' is not allowed in character data");
        check_char(c);
        element.text.push_back(c);
        ++pos_;
      } else if (starts_with("</")) {
        const size_t end_at = pos_;
        pos_ += 2;
        const std::string name = parse_name("an element name after '</'");
        if (name != element.name) {
          const auto [line, column] = location(end_at);
          throw Error(detail::concat(source_, ":", line, ":", column, ": expected </", element.name,
                                     "> (opened at line ", element.line, "), found </", name, ">"));
        }
        skip_space();
        expect(">", "expected '>' to end </" + element.name);
        return;
      } else if (starts_with("<!--")) {
        skip_comment();
      } else if (starts_with("<![CDATA[")) {
        const size_t start = pos_;
        pos_ += 9;
        const size_t end = text_.find("]]>", pos_);
        if (end == std::string::npos) fail_at(start, "CDATA section never closed by ']]>'");
        element.text.append(text_, pos_, end - pos_);
        pos_ = end + 3;
      } else if (starts_with("<?")) {
        skip_processing_instruction();
      } else if (starts_with("<!")) {
        fail_at(pos_, "expected an element, comment or CDATA section after '<!'");
      } else {
        element.children.push_back(parse_element(depth + 1));
      }
    }
  }

  std::string text_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t counted_to_ = 0;
  int64_t counted_line_ = 1;
};

// XML 1.0 §2.11: "\r\n" and lone "\r" become "\n" before parsing.
std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

}  // namespace

XmlElement parse_xml(std::string_view text, const std::string& source_name) {
  check_utf8(text, source_name);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // byte-order mark
  XmlParser parser(normalize_line_ends(text), source_name);
  return parser.parse_document();
}

XmlElement read_xml_file(const std::string& path) { return parse_xml(read_text_file(path), path); }

}  // namespace petl::data

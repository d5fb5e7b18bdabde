#include "tokenizer/pretokenize.h"

#include <array>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace petl::tokenizer {

namespace {

using unicode::CharClass;

// Classes of the ASCII code points, so the common case needs no decoding or table lookup.
constexpr std::array<CharClass, 128> kAsciiClass = [] {
  std::array<CharClass, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) t[c] = CharClass::Letter;
    else if (c >= '0' && c <= '9') t[c] = CharClass::Number;
    else if (c == ' ' || (c >= '\t' && c <= '\r')) t[c] = CharClass::Space;
    else t[c] = CharClass::Other;
  }
  return t;
}();

inline CharClass class_of(char32_t cp) { return cp < 128 ? kAsciiClass[cp] : unicode::classify(cp); }

}  // namespace

char32_t PreTokenizer::decode_at(std::size_t& pos) const {
  const auto b = static_cast<unsigned char>(text_[pos]);
  if (b < 0x80) {
    ++pos;
    return b;
  }
  return utf8::decode(text_, pos, base_);
}

// End of the maximal run of code points of class `want` starting at pos.
std::size_t PreTokenizer::run_end(std::size_t pos, CharClass want) const {
  while (pos < text_.size()) {
    std::size_t q = pos;
    if (class_of(decode_at(q)) != want) break;
    pos = q;
  }
  return pos;
}

bool PreTokenizer::next(std::string_view& piece) {
  const std::size_t n = text_.size();
  if (pos_ >= n) return false;
  const std::size_t start = pos_;
  std::size_t p = pos_;
  const char32_t c = decode_at(p);  // p is now just past c
  const CharClass cls = class_of(c);
  std::size_t end;

  if (c == '\'' && p < n) {
    // 's 't 're 've 'm 'll 'd (lower case only, as in the pattern)
    const char a = text_[p];
    const char b = p + 1 < n ? text_[p + 1] : '\0';
    std::size_t len = 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') len = 2;
    else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) len = 3;
    if (len != 0) {
      pos_ = start + len;
      piece = text_.substr(start, len);
      return true;
    }
  }

  if (cls != CharClass::Space) {
    // \p{L}+, \p{N}+ or [^\s\p{L}\p{N}]+
    end = run_end(p, cls);
  } else {
    std::size_t q = p;
    const CharClass next_cls = p < n ? class_of(decode_at(q)) : CharClass::Space;
    if (c == ' ' && next_cls != CharClass::Space) {
      // " ?" joins a single space to the letter / number / symbol run that follows it.
      end = run_end(q, next_cls);
    } else {
      // \s+(?!\S): the whole run when it ends the text (or is followed by nothing but more
      // space, which is the same thing for a maximal run); otherwise all of it but its last code
      // point, which then starts the next piece (" ?\p{L}+" takes a last ' ', "\s+" any other).
      // A run of one code point followed by non-space falls to the final \s+ alternative.
      std::size_t last_start = start;
      end = p;
      while (end < n) {
        std::size_t r = end;
        if (class_of(decode_at(r)) != CharClass::Space) break;
        last_start = end;
        end = r;
      }
      if (end < n && last_start > start) end = last_start;
    }
  }
  pos_ = end;
  piece = text_.substr(start, end - start);
  return true;
}

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  PreTokenizer scanner(text);
  std::string_view piece;
  while (scanner.next(piece)) pieces.push_back(piece);
  return pieces;
}

}  // namespace petl::tokenizer

#include "tokenizer/utf8.h"

#include <cstdio>

#include "tokenizer/error.h"

namespace petl::tokenizer::utf8 {

namespace {

[[noreturn]] void fail(std::string_view text, std::size_t pos, std::size_t base_offset, const char* why) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "invalid UTF-8 at byte offset %zu (byte 0x%02X): %s", base_offset + pos,
                static_cast<unsigned>(static_cast<unsigned char>(text[pos])), why);
  throw TokenizerError(buf);
}

}  // namespace

char32_t decode(std::string_view text, std::size_t& pos, std::size_t base_offset) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char b0 = s[pos];
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  const int len = sequence_length(b0);
  if (len == 0) {
    fail(text, pos, base_offset,
         b0 < 0xC0 ? "continuation byte without a lead byte"
                   : (b0 < 0xC2 ? "overlong 2-byte form" : "byte never valid in UTF-8"));
  }
  char32_t cp = b0 & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    if (pos + k >= text.size()) fail(text, pos, base_offset, "sequence truncated by the end of the text");
    const unsigned char b = s[pos + k];
    if (b < 0x80 || b > 0xBF) fail(text, pos, base_offset, "lead byte not followed by enough continuation bytes");
    if (k == 1) {
      // The second byte's range also depends on the lead byte: this excludes overlong forms,
      // UTF-16 surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
      if (b0 == 0xE0 && b < 0xA0) fail(text, pos, base_offset, "overlong 3-byte form");
      if (b0 == 0xED && b > 0x9F) fail(text, pos, base_offset, "encodes a UTF-16 surrogate");
      if (b0 == 0xF0 && b < 0x90) fail(text, pos, base_offset, "overlong 4-byte form");
      if (b0 == 0xF4 && b > 0x8F) fail(text, pos, base_offset, "code point above U+10FFFF");
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos += len;
  return cp;
}

void validate(std::string_view text, const char* what) {
  std::size_t pos = 0;
  try {
    while (pos < text.size()) decode(text, pos);
  } catch (const TokenizerError& e) {
    throw TokenizerError(std::string(what) + ": " + e.what());
  }
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace petl::tokenizer::utf8

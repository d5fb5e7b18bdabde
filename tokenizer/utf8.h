// Strict UTF-8 decoding and encoding (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace petl::tokenizer::utf8 {

// Decodes the code point starting at text[pos] and advances pos past it. Throws TokenizerError
// naming the byte offset (base_offset + pos) when the bytes there are not valid UTF-8.
char32_t decode(std::string_view text, std::size_t& pos, std::size_t base_offset = 0);

// Throws TokenizerError at the first invalid byte; `what` prefixes the message.
void validate(std::string_view text, const char* what);

// Appends the UTF-8 encoding of a valid code point.
void append(std::string& out, char32_t cp);

// Number of bytes of the sequence introduced by lead byte b (1..4), 0 if b cannot start one.
inline int sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

}  // namespace petl::tokenizer::utf8

// GPT-2's byte-to-unicode table: every byte 0..255 gets a printable code point so that a token
// (a byte string) can be written as a readable, whitespace-free string in vocab and merges files.
// Bytes that are already printable Latin-1 ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) map to
// themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen...) map, in byte
// order, to U+0100, U+0101, ... U+0143. So the space byte 0x20 is 'Ġ' (U+0120), '\n' is 'Ċ'.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace petl::tokenizer {

// The code point standing for byte b.
char32_t byte_to_unicode(unsigned char b);

// The byte a code point stands for, or nothing when cp is not one of the 256 symbols.
std::optional<unsigned char> unicode_to_byte(char32_t cp);

// The UTF-8 text of byte b's symbol (1 or 2 bytes), e.g. byte_symbol(' ') == "Ġ".
const std::string& byte_symbol(unsigned char b);

// Byte string -> its symbol string ("Hello world" -> "HelloĠworld").
std::string bytes_to_symbols(std::string_view bytes);

// Symbol string -> the bytes it stands for; nothing when it contains a code point that is not a
// byte symbol or is not valid UTF-8.
std::optional<std::string> symbols_to_bytes(std::string_view symbols);

}  // namespace petl::tokenizer

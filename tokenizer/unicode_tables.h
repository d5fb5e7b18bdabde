// Unicode character classes used by the GPT-2 pre-tokenizer: \p{L}, \p{N} and \s as the
// JavaScript regex engine of the reference encoder defines them. The range tables live in the
// generated unicode_tables.cpp (see gen_unicode_tables.py); classify() is in unicode_class.cpp.
#pragma once
#include <cstdint>
#include <span>

namespace petl::tokenizer::unicode {

// An inclusive range of code points [first, last].
struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Sorted, disjoint, non-adjacent ranges.
std::span<const CodePointRange> letter_ranges();  // \p{L}
std::span<const CodePointRange> number_ranges();  // \p{N}
std::span<const CodePointRange> space_ranges();   // JavaScript \s
// The character data the tables were generated from, e.g. "Unicode 17.0 (node ...)".
const char* table_unicode_version();

enum class CharClass : std::uint8_t { Letter, Number, Space, Other };

// The pre-tokenizer's class of one code point (anything in no table is Other).
CharClass classify(char32_t cp);

}  // namespace petl::tokenizer::unicode

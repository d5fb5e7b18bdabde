// Text as METEOR 1.5 (Java) sees it: strings of Unicode code points, compared through Java's
// String.hashCode (the aligner keys every word by it), lower-cased by String.toLowerCase, trimmed
// by String.trim and split by java.util.StringTokenizer. Reference: meteor-1.5.jar,
// edu/cmu/meteor/aligner/Stage.java (wordsToKeys) and Alignment.java (tokenize).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace petl::metrics::meteor {

// UTF-8 -> code points; invalid UTF-8 is a petl::Error naming `where` and the byte offset.
std::u32string to_u32(std::string_view utf8, std::string_view where);
std::string to_utf8(std::u32string_view text);

// String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, wrapping in 32 bits.
int32_t java_hash(std::u32string_view text);

// String.length: UTF-16 code units (a code point above U+FFFF counts twice).
size_t java_length(std::u32string_view text);

// String.toLowerCase: Unicode simple lower-case mapping per code point, plus Java's two special
// cases for non-Turkic locales: U+0130 becomes "i" U+0307, and capital sigma becomes final sigma at
// the end of a word.
std::u32string java_lower(std::u32string_view text);

// String.trim: drops leading and trailing code points <= U+0020.
std::u32string_view java_trim(std::u32string_view text);

// new StringTokenizer(text) tokens: split on " \t\n\r\f", empty tokens dropped.
std::vector<std::u32string> java_tokens(std::u32string_view text);

}  // namespace petl::metrics::meteor

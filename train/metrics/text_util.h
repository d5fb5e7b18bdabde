// Text helpers the scorers share: UTF-8 iteration, the whitespace sets and lowercasing of the
// languages the reference scorers are written in (Python's str.split/strip/lower, Perl's \s),
// and n-gram keys. Each scorer names which of these its reference uses.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace petl::metrics {

// Decodes the code point at text[pos] and advances pos. The scorers only see text that was
// checked as UTF-8 on input; a stray invalid byte is taken as one code point U+FFFD.
char32_t next_code_point(std::string_view text, std::size_t& pos);
void append_utf8(std::string& out, char32_t cp);

// Python's str.isspace() (what str.split() and str.strip() use).
bool is_python_space(char32_t cp);
// Perl's \s on a character string (the file was read through the :utf8 layer).
bool is_perl_space(char32_t cp);

// str.split() with no argument: runs of Python whitespace separate, no empty fields.
std::vector<std::string> python_split(std::string_view text);
// str.split(" "): every single space separates, empty fields kept ("" -> {""}).
std::vector<std::string> split_on_single_space(std::string_view text);
// str.strip() with no argument.
std::string python_strip(std::string_view text);
// str.lower(): the Unicode default lowercase mapping (Java's String.toLowerCase() agrees on it).
std::string unicode_lower(std::string_view text);
// A-Z -> a-z only, every other byte unchanged (Perl's lc / tr on byte strings).
std::string ascii_lower(std::string_view text);
// Perl's split ' ' / split /\s+/ on a byte string: ASCII whitespace separates, no empty fields.
std::vector<std::string> ascii_split(std::string_view text);

// The n-gram tokens[start, start+n) joined with a separator that cannot occur inside a token.
std::string ngram_key(const std::vector<std::string>& tokens, std::size_t start, std::size_t n);

namespace detail {
struct LowerPair {
  char32_t upper;
  char32_t lower;
};
extern const LowerPair kLowerPairs[];
extern const std::size_t kLowerPairCount;
}  // namespace detail

}  // namespace petl::metrics

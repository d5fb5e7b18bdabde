#include "train/metrics/python_text.h"

#include <algorithm>
#include <vector>

#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

bool in_ranges(const detail::CodePointRange* ranges, std::size_t count, char32_t cp) {
  const auto* end = ranges + count;
  const auto* it = std::upper_bound(ranges, end, cp, [](char32_t c, const detail::CodePointRange& r) {
    return c < r.first;
  });
  return it != ranges && cp <= (it - 1)->last;
}

bool is_sigma_cased(char32_t cp) { return in_ranges(detail::kSigmaCasedRanges, detail::kSigmaCasedRangesCount, cp); }
bool is_case_ignorable(char32_t cp) {
  return in_ranges(detail::kCaseIgnorableRanges, detail::kCaseIgnorableRangesCount, cp);
}

std::vector<char32_t> code_points(std::string_view text) {
  std::vector<char32_t> cps;
  for (std::size_t pos = 0; pos < text.size();) cps.push_back(next_code_point(text, pos));
  return cps;
}

// unicodeobject.c handle_capital_sigma: final when a cased letter precedes (skipping
// case-ignorable characters) and none follows (skipping them too).
bool sigma_is_final(const std::vector<char32_t>& cps, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
  if (j == 0 || !is_sigma_cased(cps[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < cps.size() && is_case_ignorable(cps[k])) ++k;
  return k == cps.size() || !is_sigma_cased(cps[k]);
}

}  // namespace

bool is_python_word_char(char32_t cp) {
  return in_ranges(detail::kPythonWordRanges, detail::kPythonWordRangesCount, cp);
}

std::string python_lower(std::string_view text) {
  if (text.find("\xCE\xA3") == std::string_view::npos) return unicode_lower(text);  // no U+03A3
  const std::vector<char32_t> cps = code_points(text);
  std::string out;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] == 0x3A3) {
      append_utf8(out, sigma_is_final(cps, i) ? 0x3C2 : 0x3C3);
      continue;
    }
    std::string one;
    append_utf8(one, cps[i]);
    out += unicode_lower(one);
  }
  return out;
}

std::string split_non_word_tokens(std::string_view text) {
  std::string out;
  bool in_word = false;  // the last character written continues a \w run
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t cp = next_code_point(text, pos);
    if (is_python_space(cp)) {  // a \W character that str.split() then drops
      in_word = false;
      continue;
    }
    const bool word = is_python_word_char(cp);
    if (!out.empty() && !(word && in_word)) out.push_back(' ');
    out.append(text.substr(start, pos - start));
    in_word = word;
  }
  return out;
}

}  // namespace petl::metrics

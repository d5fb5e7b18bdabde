// classify(): a flat table for the Basic Multilingual Plane (built once from the generated ranges,
// 64 KiB), binary search over the ranges above it.
#include <algorithm>
#include <array>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace petl::tokenizer::unicode {

namespace {

bool in_ranges(std::span<const CodePointRange> ranges, char32_t cp) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](char32_t c, const CodePointRange& r) { return c < r.first; });
  return it != ranges.begin() && cp <= std::prev(it)->last;
}

CharClass classify_slow(char32_t cp) {
  if (in_ranges(letter_ranges(), cp)) return CharClass::Letter;
  if (in_ranges(number_ranges(), cp)) return CharClass::Number;
  if (in_ranges(space_ranges(), cp)) return CharClass::Space;
  return CharClass::Other;
}

const std::vector<CharClass>& bmp_table() {
  static const std::vector<CharClass> table = [] {
    std::vector<CharClass> t(0x10000, CharClass::Other);
    auto fill = [&t](std::span<const CodePointRange> ranges, CharClass c) {
      for (const auto& r : ranges) {
        for (char32_t cp = r.first; cp <= r.last && cp < 0x10000; ++cp) t[cp] = c;
      }
    };
    fill(letter_ranges(), CharClass::Letter);
    fill(number_ranges(), CharClass::Number);
    fill(space_ranges(), CharClass::Space);
    return t;
  }();
  return table;
}

}  // namespace

CharClass classify(char32_t cp) {
  if (cp < 0x10000) return bmp_table()[cp];
  return classify_slow(cp);
}

}  // namespace petl::tokenizer::unicode

#include "train/metrics/unidecode.h"

#include <algorithm>
#include <string>
#include <vector>

#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

using SectionEntries = std::vector<std::string_view>;

// Split once per process: section index -> its 256 entries (missing ones empty).
const std::vector<SectionEntries>& sections() {
  static const std::vector<SectionEntries> table = [] {
    std::vector<SectionEntries> all(0xF00);
    for (std::size_t i = 0; i < detail::kUnidecodeSectionCount; ++i) {
      const detail::UnidecodeSection& s = detail::kUnidecodeSections[i];
      SectionEntries entries;
      std::string_view rest(s.entries);
      for (;;) {
        const std::size_t cut = rest.find('\x1f');
        entries.push_back(rest.substr(0, cut));
        if (cut == std::string_view::npos) break;
        rest.remove_prefix(cut + 1);
      }
      entries.resize(256);
      all.at(s.section) = std::move(entries);
    }
    return all;
  }();
  return table;
}

}  // namespace

std::string_view unidecode_code_point(char32_t cp) {
  if (cp > 0xEFFFF) return {};  // unidecode: no data in the private use planes and above
  const SectionEntries& entries = sections()[cp >> 8];
  return entries.empty() ? std::string_view() : entries[cp & 0xFF];
}

std::string unidecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t cp = next_code_point(text, pos);
    if (cp < 0x80) out.append(text.substr(start, pos - start));
    else out.append(unidecode_code_point(cp));
  }
  return out;
}

}  // namespace petl::metrics

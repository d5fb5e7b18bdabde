#include "train/metrics/meteor_text.h"

#include <clocale>
#include <cwctype>
#include <locale.h>

#include "tensor/error.h"

namespace petl::metrics::meteor {

std::u32string to_u32(std::string_view s, std::string_view where) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t cp = 0, min_cp = 0;
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      extra = 1, cp = b0 & 0x1F, min_cp = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      extra = 2, cp = b0 & 0x0F, min_cp = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      extra = 3, cp = b0 & 0x07, min_cp = 0x10000;
    } else {
      throw Error(detail::concat(where, ": invalid UTF-8 at byte ", i, " (lead byte ", int(b0), ")"));
    }
    if (i + static_cast<size_t>(extra) >= s.size() && extra > 0)
      throw Error(detail::concat(where, ": truncated UTF-8 sequence at byte ", i));
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80)
        throw Error(detail::concat(where, ": invalid UTF-8 continuation at byte ", i + k));
      cp = (cp << 6) | (b & 0x3F);
    }
    if (extra > 0 && (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      throw Error(detail::concat(where, ": invalid UTF-8 code point at byte ", i));
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

std::string to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

int32_t java_hash(std::u32string_view text) {
  uint32_t h = 0;
  for (char32_t c : text) {
    if (c >= 0x10000) {  // a surrogate pair in UTF-16
      const char32_t v = c - 0x10000;
      h = 31 * h + static_cast<uint32_t>(0xD800 + (v >> 10));
      h = 31 * h + static_cast<uint32_t>(0xDC00 + (v & 0x3FF));
    } else {
      h = 31 * h + static_cast<uint32_t>(c);
    }
  }
  return static_cast<int32_t>(h);
}

size_t java_length(std::u32string_view text) {
  size_t n = 0;
  for (char32_t c : text) n += c >= 0x10000 ? 2 : 1;
  return n;
}

namespace {

// glibc's C.UTF-8 locale carries the Unicode simple case mappings; using it explicitly keeps the
// result independent of the process locale.
locale_t unicode_locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    PETL_CHECK(l != static_cast<locale_t>(nullptr),
               "METEOR: the C.UTF-8 locale (Unicode case mapping) is not available");
    return l;
  }();
  return loc;
}

char32_t lower_one(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), unicode_locale()));
}

bool is_cased(char32_t c) {
  return lower_one(c) != c ||
         static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), unicode_locale())) != c;
}

}  // namespace

std::u32string java_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE
      out += U'i';
      out += char32_t{0x307};
    } else if (c == 0x3A3) {  // GREEK CAPITAL SIGMA: final form after a cased letter, before none
      const bool after_cased = i > 0 && is_cased(text[i - 1]);
      const bool before_cased = i + 1 < text.size() && is_cased(text[i + 1]);
      out += (after_cased && !before_cased) ? char32_t{0x3C2} : char32_t{0x3C3};
    } else {
      out += lower_one(c);
    }
  }
  return out;
}

std::u32string_view java_trim(std::u32string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && text[b] <= 0x20) ++b;
  while (e > b && text[e - 1] <= 0x20) --e;
  return text.substr(b, e - b);
}

std::vector<std::u32string> java_tokens(std::u32string_view text) {
  std::vector<std::u32string> out;
  auto is_delim = [](char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_delim(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !is_delim(text[j])) ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace petl::metrics::meteor

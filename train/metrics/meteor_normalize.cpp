#include "train/metrics/meteor_normalize.h"

#include <functional>
#include <vector>

#include "train/metrics/meteor_text.h"

namespace petl::metrics::meteor {
namespace {

// The Java character classes. `alpha`: A-Za-z, Latin-1 and Latin Extended-A letters, Cyrillic
// (U+0400-U+0527, U+A640-U+A66E, U+A67E-U+A697) and phonetic extensions (U+1D00-U+1D7F).
bool is_alpha(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == 0x160 || c == 0x17D ||
         c == 0x161 || c == 0x17E || c == 0x178 || (c >= 0xC0 && c <= 0xD6) ||
         (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x17E) || (c >= 0x400 && c <= 0x4FF) ||
         (c >= 0x500 && c <= 0x527) || (c >= 0xA640 && c <= 0xA66E) ||
         (c >= 0xA67E && c <= 0xA697) || (c >= 0x1D00 && c <= 0x1D7F);
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }  // \p{Digit}: ASCII only in Java
bool is_alnum(char32_t c) { return is_digit(c) || is_alpha(c); }
bool is_java_space(char32_t c) {  // \s without UNICODE_CHARACTER_CLASS
  return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
}
// r_white: space, U+2000-U+200A, U+202F, U+205F, U+3000, U+00A0
bool is_white(char32_t c) {
  return c == ' ' || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000 ||
         c == 0xA0;
}

using Class = std::function<bool(char32_t)>;

// replaceAll of the three-character pattern ([first])[middle]([last]) by first + between + last.
std::u32string replace_triples(const std::u32string& s, const Class& first, char32_t middle,
                               const Class& last, std::u32string_view between) {
  std::u32string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 2 < s.size() && first(s[i]) && s[i + 1] == middle && last(s[i + 2])) {
      out += s[i];
      out += between;
      out += s[i + 2];
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// String.replace(literal, literal): left to right, non-overlapping.
std::u32string replace_literal(const std::u32string& s, std::u32string_view from,
                               std::u32string_view to) {
  std::u32string out;
  size_t i = 0;
  while (true) {
    const size_t at = s.find(from, i);
    if (at == std::u32string::npos) break;
    out.append(s, i, at - i);
    out += to;
    i = at + from.size();
  }
  out.append(s, i, std::u32string::npos);
  return out;
}

bool contains(const std::u32string& s, std::u32string_view what) {
  return s.find(what) != std::u32string::npos;
}

}  // namespace

Normalizer::Normalizer(std::string_view prefixes) {
  size_t pos = 0;
  while (pos < prefixes.size()) {
    size_t end = prefixes.find('\n', pos);
    if (end == std::string_view::npos) end = prefixes.size();
    const auto words = java_tokens(to_u32(prefixes.substr(pos, end - pos), "nonbreaking prefixes"));
    pos = end + 1;
    if (words.empty() || words[0][0] == U'#') continue;
    const bool numeric = words.size() > 1 && words[1] == U"#NUMERIC_ONLY#";
    prefixes_[words[0]] = numeric ? Prefix::numeric_only : Prefix::any;
  }
}

std::u32string Normalizer::normalize(std::u32string_view line) const {
  std::u32string s = U" ";
  s += line;
  s += U" ";

  // r_sep_other: every character but alphanumerics, \s and . ' ` , - ‘ ’ gets spaces around it
  {
    std::u32string out;
    out.reserve(s.size() * 2);
    for (char32_t c : s) {
      const bool special = is_alnum(c) || is_java_space(c) || c == '.' || c == '\'' || c == '`' ||
                           c == ',' || c == '-' || c == 0x2018 || c == 0x2019;
      if (special) {
        out += c;
      } else {
        out += U' ';
        out += c;
        out += U' ';
      }
    }
    s = std::move(out);
  }

  // r_multi_dot: "\.([\.]+)" -> " DOTMULTI$1", then DOTMULTI. -> DOTDOTMULTI until none is left
  {
    std::u32string out;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == '.' && i + 1 < s.size() && s[i + 1] == '.') {
        size_t j = i + 1;
        while (j < s.size() && s[j] == '.') ++j;
        out += U" DOTMULTI";
        out.append(s, i + 1, j - i - 1);
        i = j;
      } else {
        out += s[i++];
      }
    }
    s = std::move(out);
  }
  while (contains(s, U"DOTMULTI.")) {
    // "DOTMULTI\.([^\.])" -> "DOTDOTMULTI $1"
    std::u32string out;
    size_t i = 0;
    const std::u32string_view key = U"DOTMULTI.";
    while (i < s.size()) {
      if (s.compare(i, key.size(), key) == 0 && i + key.size() < s.size() &&
          s[i + key.size()] != '.') {
        out += U"DOTDOTMULTI ";
        out += s[i + key.size()];
        i += key.size() + 1;
      } else {
        out += s[i++];
      }
    }
    s = replace_literal(out, U"DOTMULTI.", U"DOTDOTMULTI");
  }

  // commas are separated except between digits
  auto not_digit = [](char32_t c) { return !is_digit(c); };
  s = replace_triples(s, not_digit, ',', not_digit, U" , ");
  s = replace_triples(s, is_digit, ',', not_digit, U" , ");
  s = replace_triples(s, not_digit, ',', is_digit, U" , ");

  // quotes: ` ‘ ’ -> ', and “ ” '' -> "
  for (char32_t& c : s)
    if (c == '`' || c == 0x2018 || c == 0x2019) c = '\'';
  {
    std::u32string out;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == 0x201C || s[i] == 0x201D) {
        out += U" \" ";
        ++i;
      } else if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        out += U" \" ";
        i += 2;
      } else {
        out += s[i++];
      }
    }
    s = std::move(out);
  }

  // dashes: en dash -> -, then -- -> -
  s = replace_literal(s, U"\u2013", U"-");
  s = replace_literal(s, U"--", U"-");

  // r_rm_dash: a dash between alphanumerics (or after a dot) becomes a space
  s = replace_triples(s, [](char32_t c) { return is_alnum(c) || c == '.'; }, '-', is_alnum, U" ");

  // English contractions split to the right
  auto not_alpha = [](char32_t c) { return !is_alpha(c); };
  s = replace_triples(s, not_alpha, '\'', not_alpha, U" ' ");
  s = replace_triples(s, [](char32_t c) { return !is_alpha(c) && !is_digit(c); }, '\'', is_alpha,
                      U" ' ");
  s = replace_triples(s, is_alpha, '\'', not_alpha, U" ' ");
  s = replace_triples(s, is_alpha, '\'', is_alpha, U" '");
  s = replace_triples(s, is_digit, '\'', [](char32_t c) { return c == 's'; }, U" '");

  // words with a final dot: kept for nonbreaking prefixes, dots dropped inside "U.S."-like words,
  // otherwise the dot is split off
  const auto words = java_tokens(s);
  std::u32string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::u32string& w = words[i];
    if (java_length(w) > 1 && w.back() == '.') {
      const std::u32string pre = w.substr(0, w.size() - 1);
      const auto found = prefixes_.find(pre);
      const bool has_alpha = [&] {
        for (char32_t c : pre)
          if (is_alpha(c)) return true;
        return false;
      }();
      const bool next_lower = i + 1 < words.size() && words[i + 1][0] >= 'a' && words[i + 1][0] <= 'z';
      const bool next_digit = i + 1 < words.size() && is_digit(words[i + 1][0]);
      if (contains(pre, U".") && has_alpha) {
        out += replace_literal(w, U".", U"");
      } else if ((found != prefixes_.end() && found->second == Prefix::any) || next_lower) {
        out += w;
      } else if (found != prefixes_.end() && found->second == Prefix::numeric_only && next_digit) {
        out += w;
      } else {
        out += pre;
        out += U" .";
      }
    } else {
      out += w;
    }
    out += U' ';
  }
  s = std::move(out);

  // unescape multi-dots
  while (contains(s, U"DOTDOTMULTI")) s = replace_literal(s, U"DOTDOTMULTI", U"DOTMULTI.");
  s = replace_literal(s, U"DOTMULTI", U".");

  // r_white: runs of (Unicode) spaces -> one space, then trim
  {
    std::u32string collapsed;
    size_t i = 0;
    while (i < s.size()) {
      if (is_white(s[i])) {
        while (i < s.size() && is_white(s[i])) ++i;
        collapsed += U' ';
      } else {
        collapsed += s[i++];
      }
    }
    s = std::u32string(java_trim(collapsed));
  }
  return s;
}

}  // namespace petl::metrics::meteor

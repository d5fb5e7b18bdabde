#include "train/metrics/meteor_stem.h"

#include <initializer_list>

namespace petl::metrics::meteor {
namespace {

using Word = std::u32string;

bool is_vowel(char32_t c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

bool ends_with(const Word& w, std::u32string_view suffix) {
  return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The longest of `suffixes` that `w` ends with, or an empty view when none does.
std::u32string_view longest_suffix(const Word& w, std::initializer_list<std::u32string_view> suffixes) {
  std::u32string_view best;
  bool found = false;
  for (auto s : suffixes)
    if (ends_with(w, s) && (!found || s.size() > best.size())) best = s, found = true;
  return best;
}

bool has_vowel(const Word& w, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i)
    if (is_vowel(w[i])) return true;
  return false;
}

// "gopast v gopast non-v" from `from`: the position after the first non-vowel that follows a vowel.
size_t region_start(const Word& w, size_t from) {
  size_t i = from;
  while (i < w.size() && !is_vowel(w[i])) ++i;
  if (i == w.size()) return w.size();
  ++i;
  while (i < w.size() && is_vowel(w[i])) ++i;
  if (i == w.size()) return w.size();
  return i + 1;
}

// A short syllable ending at `end`: non-vowel, vowel, non-vowel other than w, x, Y; or, at the
// start of the word, vowel then non-vowel.
bool short_syllable_before(const Word& w, size_t end) {
  if (end >= 3 && !is_vowel(w[end - 3]) && is_vowel(w[end - 2]) && !is_vowel(w[end - 1]) &&
      w[end - 1] != 'w' && w[end - 1] != 'x' && w[end - 1] != 'Y')
    return true;
  return end == 2 && is_vowel(w[0]) && !is_vowel(w[1]);
}

bool is_li_ending(char32_t c) {
  for (char32_t e : {U'c', U'd', U'e', U'g', U'h', U'k', U'm', U'n', U'r', U't'})
    if (c == e) return true;
  return false;
}

void replace_suffix(Word& w, size_t suffix_len, std::u32string_view with) {
  w.resize(w.size() - suffix_len);
  w += with;
}

struct Regions {
  size_t p1, p2;
};

// Step 0 and 1a: apostrophe suffixes, then plurals.
void step_1a(Word& w) {
  auto apo = longest_suffix(w, {U"'", U"'s", U"'s'"});
  if (!apo.empty()) w.resize(w.size() - apo.size());
  auto s = longest_suffix(w, {U"sses", U"ied", U"ies", U"s", U"us", U"ss"});
  if (s == U"sses") {
    replace_suffix(w, 4, U"ss");
  } else if (s == U"ied" || s == U"ies") {
    // "i" when more than one letter precedes, else "ie" (ties -> tie, cries -> cri)
    replace_suffix(w, 3, w.size() - 3 >= 2 ? U"i" : U"ie");
  } else if (s == U"s") {
    // delete when the part before the preceding letter holds a vowel (gaps -> gap, gas stays)
    if (w.size() >= 2 && has_vowel(w, 0, w.size() - 2)) w.pop_back();
  }
}

// Step 1b: -eed(ly) in R1 -> ee; -ed(ly), -ing(ly) after a vowel are removed, then at/bl/iz get an
// e, a double consonant loses one letter, a short word gets an e.
void step_1b(Word& w, const Regions& r) {
  auto s = longest_suffix(w, {U"eed", U"eedly", U"ed", U"edly", U"ing", U"ingly"});
  if (s.empty()) return;
  const size_t start = w.size() - s.size();
  if (s == U"eed" || s == U"eedly") {
    if (start >= r.p1) replace_suffix(w, s.size(), U"ee");
    return;
  }
  if (!has_vowel(w, 0, start)) return;
  w.resize(start);
  auto end = longest_suffix(w, {U"at", U"bl", U"iz", U"bb", U"dd", U"ff", U"gg", U"mm", U"nn",
                                U"pp", U"rr", U"tt"});
  if (end == U"at" || end == U"bl" || end == U"iz") {
    w += U'e';
  } else if (!end.empty()) {
    w.pop_back();
  } else if (w.size() == r.p1 && short_syllable_before(w, w.size())) {
    w += U'e';
  }
}

// Step 1c: final y/Y -> i after a non-vowel that is not the first letter.
void step_1c(Word& w) {
  if (w.size() >= 3 && (w.back() == 'y' || w.back() == 'Y') && !is_vowel(w[w.size() - 2]))
    w.back() = 'i';
}

// Step 2 (suffix in R1).
void step_2(Word& w, const Regions& r) {
  auto s = longest_suffix(w, {U"tional", U"enci", U"anci", U"abli", U"entli", U"izer", U"ization",
                              U"ational", U"ation", U"ator", U"alism", U"aliti", U"alli", U"fulness",
                              U"ousli", U"ousness", U"iveness", U"iviti", U"biliti", U"bli", U"ogi",
                              U"fulli", U"lessli", U"li"});
  if (s.empty() || w.size() - s.size() < r.p1) return;
  const size_t n = s.size();
  if (s == U"tional") replace_suffix(w, n, U"tion");
  else if (s == U"enci") replace_suffix(w, n, U"ence");
  else if (s == U"anci") replace_suffix(w, n, U"ance");
  else if (s == U"abli") replace_suffix(w, n, U"able");
  else if (s == U"entli") replace_suffix(w, n, U"ent");
  else if (s == U"izer" || s == U"ization") replace_suffix(w, n, U"ize");
  else if (s == U"ational" || s == U"ation" || s == U"ator") replace_suffix(w, n, U"ate");
  else if (s == U"alism" || s == U"aliti" || s == U"alli") replace_suffix(w, n, U"al");
  else if (s == U"fulness") replace_suffix(w, n, U"ful");
  else if (s == U"ousli" || s == U"ousness") replace_suffix(w, n, U"ous");
  else if (s == U"iveness" || s == U"iviti") replace_suffix(w, n, U"ive");
  else if (s == U"biliti" || s == U"bli") replace_suffix(w, n, U"ble");
  else if (s == U"ogi") {
    if (w.size() > n && w[w.size() - n - 1] == 'l') replace_suffix(w, n, U"og");
  } else if (s == U"fulli") replace_suffix(w, n, U"ful");
  else if (s == U"lessli") replace_suffix(w, n, U"less");
  else if (s == U"li") {
    if (w.size() > n && is_li_ending(w[w.size() - n - 1])) w.resize(w.size() - n);
  }
}

// Step 3 (suffix in R1; -ative in R2).
void step_3(Word& w, const Regions& r) {
  auto s = longest_suffix(w, {U"tional", U"ational", U"alize", U"icate", U"iciti", U"ical", U"ful",
                              U"ness", U"ative"});
  if (s.empty() || w.size() - s.size() < r.p1) return;
  const size_t n = s.size();
  if (s == U"tional") replace_suffix(w, n, U"tion");
  else if (s == U"ational") replace_suffix(w, n, U"ate");
  else if (s == U"alize") replace_suffix(w, n, U"al");
  else if (s == U"icate" || s == U"iciti" || s == U"ical") replace_suffix(w, n, U"ic");
  else if (s == U"ful" || s == U"ness") w.resize(w.size() - n);
  else if (s == U"ative") {
    if (w.size() - n >= r.p2) w.resize(w.size() - n);
  }
}

// Step 4 (suffix in R2): delete; -ion only after s or t.
void step_4(Word& w, const Regions& r) {
  auto s = longest_suffix(w, {U"al", U"ance", U"ence", U"er", U"ic", U"able", U"ible", U"ant",
                              U"ement", U"ment", U"ent", U"ism", U"ate", U"iti", U"ous", U"ive",
                              U"ize", U"ion"});
  if (s.empty() || w.size() - s.size() < r.p2) return;
  const size_t start = w.size() - s.size();
  if (s == U"ion") {
    if (start > 0 && (w[start - 1] == 's' || w[start - 1] == 't')) w.resize(start);
  } else {
    w.resize(start);
  }
}

// Step 5: -e in R2, or in R1 not after a short syllable; -l in R2 after l.
void step_5(Word& w, const Regions& r) {
  if (w.empty()) return;
  const size_t start = w.size() - 1;
  if (w.back() == 'e') {
    if (start >= r.p2 || (start >= r.p1 && !short_syllable_before(w, start))) w.pop_back();
  } else if (w.back() == 'l') {
    if (start >= r.p2 && start > 0 && w[start - 1] == 'l') w.pop_back();
  }
}

// Whole words with their own stems (exception1 of the algorithm); empty when `w` is none of them.
std::u32string_view exceptional_stem(const Word& w) {
  static constexpr std::pair<std::u32string_view, std::u32string_view> forms[] = {
      {U"skis", U"ski"}, {U"skies", U"sky"}, {U"dying", U"die"}, {U"lying", U"lie"},
      {U"tying", U"tie"}, {U"idly", U"idl"}, {U"gently", U"gentl"}, {U"ugly", U"ugli"},
      {U"early", U"earli"}, {U"only", U"onli"}, {U"singly", U"singl"}, {U"sky", U"sky"},
      {U"news", U"news"}, {U"howe", U"howe"}, {U"atlas", U"atlas"}, {U"cosmos", U"cosmos"},
      {U"bias", U"bias"}, {U"andes", U"andes"},
  };
  for (const auto& [form, stem] : forms)
    if (w == form) return stem;
  return {};
}

// Words left alone after step 1a (exception2).
bool invariant_after_1a(const Word& w) {
  for (std::u32string_view f : {U"inning", U"outing", U"canning", U"herring", U"earring",
                                U"proceed", U"exceed", U"succeed"})
    if (w == f) return true;
  return false;
}

}  // namespace

namespace {

// Java strings are UTF-16: a code point above U+FFFF is two chars to the stemmer (both non-vowels,
// but they count in lengths and hops), so the steps below run on UTF-16 units kept in char32_t.
Word to_utf16_units(std::u32string_view text) {
  Word units;
  for (char32_t c : text) {
    if (c >= 0x10000) {
      units += static_cast<char32_t>(0xD800 + ((c - 0x10000) >> 10));
      units += static_cast<char32_t>(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      units += c;
    }
  }
  return units;
}

Word from_utf16_units(const Word& units) {
  Word text;
  for (size_t i = 0; i < units.size(); ++i) {
    const char32_t c = units[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] < 0xE000) {
      text += static_cast<char32_t>(0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else {
      text += c;
    }
  }
  return text;
}

Word stem_units(Word w);

}  // namespace

std::u32string snowball_english_stem(std::u32string_view input) {
  return from_utf16_units(stem_units(to_utf16_units(input)));
}

namespace {

Word stem_units(Word w) {
  if (const auto stem = exceptional_stem(w); !stem.empty()) return Word(stem);
  if (w.size() < 3) return w;

  // prelude: drop a leading apostrophe; y at the start or after a vowel becomes the consonant Y
  if (w[0] == '\'') w.erase(0, 1);
  if (!w.empty() && w[0] == 'y') w[0] = 'Y';
  for (size_t i = 0; i + 1 < w.size(); ++i)
    if (is_vowel(w[i]) && w[i + 1] == 'y') w[++i] = 'Y';

  // R1 and R2 (with the gener-, commun-, arsen- exceptions for R1)
  Regions r{w.size(), w.size()};
  size_t p1 = std::u32string::npos;
  for (std::u32string_view prefix : {U"gener", U"commun", U"arsen"})
    if (w.compare(0, prefix.size(), prefix) == 0) p1 = prefix.size();
  r.p1 = p1 != std::u32string::npos ? p1 : region_start(w, 0);
  r.p2 = region_start(w, r.p1);

  step_1a(w);
  if (!invariant_after_1a(w)) {
    step_1b(w, r);
    step_1c(w);
    step_2(w, r);
    step_3(w, r);
    step_4(w, r);
    step_5(w, r);
  }
  for (char32_t& c : w)
    if (c == 'Y') c = 'y';
  return w;
}

}  // namespace

}  // namespace petl::metrics::meteor

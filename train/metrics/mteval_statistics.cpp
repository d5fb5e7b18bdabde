// Tokenization and n-gram statistics of mteval-v13a-sig.pl (see mteval.h): the subs
// `tokenization`, `compute_ngram_info`, `score_segment` and `brevity_penalty_closest`.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "tensor/error.h"
#include "train/metrics/mteval.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

// The ASCII characters the script's first punctuation rule isolates:
// [\{-\~\[-\` -\&\(-\+\:-\@\/] -- { | } ~  [ \ ] ^ _ `  space ! " # $ % &  ( ) * +  : ; < = > ? @  /
bool is_mteval_punctuation(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

std::u32string decode(std::string_view text) {
  std::u32string out;
  for (std::size_t pos = 0; pos < text.size();) out.push_back(next_code_point(text, pos));
  return out;
}

std::string encode(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

void replace_all(std::u32string& text, const std::u32string& from, const std::u32string& to) {
  std::u32string out;
  for (std::size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, from.size(), from) == 0) {
      out += to;
      pos += from.size();
    } else {
      out.push_back(text[pos++]);
    }
  }
  text = std::move(out);
}

// Perl's s/(A)(B)/.../g for two single-character classes: scan left to right, and after a match
// continue behind both characters.
template <class First, class Second, class Emit>
std::u32string substitute_pairs(const std::u32string& text, First first, Second second, Emit emit) {
  std::u32string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 1 < text.size() && first(text[i]) && second(text[i + 1])) {
      emit(out, text[i], text[i + 1]);
      i += 2;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// s/\s+/ /g; s/^\s+//; s/\s+$//
std::u32string squeeze_spaces(const std::u32string& text) {
  std::u32string out;
  bool pending_space = false;
  for (char32_t c : text) {
    if (is_perl_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(U' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> words_of(const std::string& tokenized) {
  if (tokenized.empty()) return {};
  return split_on_single_space(tokenized);
}

// Words2Ngrams: counts of every n-gram, n = 1..9.
using NgramCounts = std::unordered_map<std::string, int>;
NgramCounts ngram_counts(const std::vector<std::string>& words) {
  NgramCounts counts;
  for (std::size_t start = 0; start < words.size(); ++start)
    for (std::size_t n = 1; n <= std::size_t(mteval::kMaxNgram) && start + n <= words.size(); ++n)
      ++counts[ngram_key(words, start, n)];
  return counts;
}

int ngram_order(const std::string& key) { return 1 + int(std::count(key.begin(), key.end(), '\x01')); }

// brevity_penalty_closest: the closest reference length, the shorter one on a tie; an empty
// reference leaves the current choice unchanged.
double closest_length(double current, double reference, double candidate) {
  if (reference == 0) return current;
  const double d_ref = std::abs(candidate - reference), d_cur = std::abs(candidate - current);
  if (d_ref < d_cur) return reference;
  if (d_ref == d_cur && current > reference) return reference;
  return current;
}

}  // namespace

std::string mteval_tokenize(std::string_view segment) {
  // Reading the SGML: `$span =~ s/[\s\n\r]+/ /g` on the document, before the segments are cut.
  std::u32string text;
  bool in_space = false;
  for (char32_t c : decode(segment)) {
    if (is_perl_space(c)) {
      if (!in_space) text.push_back(U' ');
      in_space = true;
    } else {
      text.push_back(c);
      in_space = false;
    }
  }
  // sub tokenization, language-independent part.
  replace_all(text, U"<skipped>", U"");
  replace_all(text, U"-\n", U"");
  replace_all(text, U"\n", U" ");
  replace_all(text, U"&quot;", U"\"");
  replace_all(text, U"&amp;", U"&");
  replace_all(text, U"&lt;", U"<");
  replace_all(text, U"&gt;", U">");
  // Language-dependent part (Western languages).
  text = U" " + text + U" ";
  for (char32_t& c : text)
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
  std::u32string spaced;
  for (char32_t c : text) {
    if (is_mteval_punctuation(c)) {
      spaced.push_back(U' ');
      spaced.push_back(c);
      spaced.push_back(U' ');
    } else {
      spaced.push_back(c);
    }
  }
  auto period_or_comma = [](char32_t c) { return c == '.' || c == ','; };
  auto not_digit = [](char32_t c) { return !is_digit(c); };
  // s/([^0-9])([\.,])/$1 $2 /g
  spaced = substitute_pairs(spaced, not_digit, period_or_comma, [](std::u32string& o, char32_t a, char32_t b) {
    o.push_back(a);
    o.push_back(U' ');
    o.push_back(b);
    o.push_back(U' ');
  });
  // s/([\.,])([^0-9])/ $1 $2/g
  spaced = substitute_pairs(spaced, period_or_comma, not_digit, [](std::u32string& o, char32_t a, char32_t b) {
    o.push_back(U' ');
    o.push_back(a);
    o.push_back(U' ');
    o.push_back(b);
  });
  // s/([0-9])(-)/$1 $2 /g
  spaced = substitute_pairs(spaced, is_digit, [](char32_t c) { return c == '-'; },
                            [](std::u32string& o, char32_t a, char32_t b) {
                              o.push_back(a);
                              o.push_back(U' ');
                              o.push_back(b);
                              o.push_back(U' ');
                            });
  return encode(squeeze_spaces(spaced));
}

namespace mteval {

CorpusStats corpus_statistics(const std::vector<std::string>& outputs, const References& references) {
  PETL_CHECK(outputs.size() == references.size(), "mteval: ", outputs.size(), " outputs but ",
             references.size(), " reference lists");
  PETL_CHECK(!outputs.empty(), "mteval: no segments to score");
  std::size_t max_refs = 0;
  for (std::size_t i = 0; i < references.size(); ++i) {
    PETL_CHECK(!references[i].empty(), "mteval: segment ", i + 1, " has no reference");
    max_refs = std::max(max_refs, references[i].size());
  }
  // measure_scores.py writes reference k of every segment into the set "ref_k" ("ref" when there
  // is only one) and pads with empty segments; the script visits the sets in sorted name order.
  std::vector<std::size_t> set_order(max_refs);
  for (std::size_t k = 0; k < max_refs; ++k) set_order[k] = k;
  std::sort(set_order.begin(), set_order.end(),
            [](std::size_t a, std::size_t b) { return std::to_string(a) < std::to_string(b); });

  std::vector<std::vector<std::vector<std::string>>> ref_words(references.size());
  NgramCounts ref_ngram_total;
  double total_ref_words = 0;
  for (std::size_t i = 0; i < references.size(); ++i) {
    for (std::size_t k : set_order) {
      std::vector<std::string> words =
          k < references[i].size() ? words_of(mteval_tokenize(references[i][k])) : std::vector<std::string>{};
      total_ref_words += double(words.size());
      for (const auto& [key, count] : ngram_counts(words)) ref_ngram_total[key] += count;
      ref_words[i].push_back(std::move(words));
    }
  }
  // compute_ngram_info: info(w1..wn) = -log2(count(w1..wn) / count(w1..wn-1)), with the unigram
  // case (and, as Perl reads the string "0" as false, a prefix that is the single word "0")
  // dividing by the total number of reference words instead.
  std::unordered_map<std::string, double> info;
  info.reserve(ref_ngram_total.size());
  for (const auto& [key, count] : ref_ngram_total) {
    const std::size_t cut = key.rfind('\x01');
    const std::string prefix = cut == std::string::npos ? std::string() : key.substr(0, cut);
    const double denominator = (prefix.empty() || prefix == "0") ? total_ref_words : double(ref_ngram_total[prefix]);
    info[key] = -std::log(double(count) / denominator) / std::log(2.0);
  }

  CorpusStats stats;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::vector<std::string> tst_words = words_of(mteval_tokenize(outputs[i]));
    const NgramCounts tst_ngrams = ngram_counts(tst_words);
    const double tst_len = double(tst_words.size());
    for (int n = 1; n <= kMaxNgram; ++n)
      stats.tst[std::size_t(n)] += n <= int(tst_len) ? tst_len - n + 1 : 0;
    std::unordered_map<std::string, int> ref_max;
    bool have_length = false;
    double ref_length = 0;
    for (const auto& words : ref_words[i]) {
      if (!words.empty()) stats.ref_count += 1;  // $nrefs++ if $ref_seg ne ''
      for (const auto& [key, count] : ngram_counts(words)) {
        int& best = ref_max[key];
        best = std::max(best, count);
      }
      const double len = double(words.size());
      for (int n = 1; n <= kMaxNgram; ++n) stats.ref[std::size_t(n)] += n <= int(len) ? len - n + 1 : 0;
      ref_length = have_length ? closest_length(ref_length, len, tst_len) : len;
      have_length = true;
    }
    stats.ref_length += ref_length;
    stats.seg_count += 1;
    for (const auto& [key, count] : tst_ngrams) {
      const auto found = ref_max.find(key);
      if (found == ref_max.end()) continue;
      const int clipped = std::min(count, found->second);
      const auto n = std::size_t(ngram_order(key));
      stats.match[n] += clipped;
      stats.tst_info[n] += info.at(key) * clipped;
    }
  }
  return stats;
}

}  // namespace mteval

}  // namespace petl::metrics

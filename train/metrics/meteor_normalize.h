// METEOR 1.5's `-norm` tokenizer for English (edu/cmu/meteor/util/Normalizer.normalizeLine with
// punctuation kept): the Moses tokenizer rules plus METEOR's quote/dash normalization, dashes
// between words split ("U.S.-based" -> "U.S. based"), English contractions split to the right
// ("don't" -> "don 't"), multi-dot runs kept whole, and a word-final dot split off unless the word
// is a nonbreaking prefix (nonbreaking/english.prefixes inside the jar). Each pass below replays
// one regular expression of the Java code, left to right and non-overlapping like
// Matcher.replaceAll.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>

namespace petl::metrics::meteor {

class Normalizer {
 public:
  // `prefixes` is the text of nonbreaking/english.prefixes ("#" comments; "Prefix" or
  // "Prefix #NUMERIC_ONLY#" per line).
  explicit Normalizer(std::string_view prefixes);

  // The normalized line (not yet lower-cased), words separated by single spaces.
  std::u32string normalize(std::u32string_view line) const;

 private:
  enum class Prefix { any, numeric_only };
  std::unordered_map<std::u32string, Prefix> prefixes_;
};

}  // namespace petl::metrics::meteor

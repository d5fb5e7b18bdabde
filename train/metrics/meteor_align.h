// METEOR 1.5's aligner (edu/cmu/meteor/aligner/Aligner.java and the matchers beside it): every
// module lists its candidate matches between the test words (line 1) and the reference words
// (line 2), one-to-one matches that overlap nothing are fixed, and a beam search (40 paths, left to
// right over the reference) picks the alignment with the most weighted matched words, then the
// fewest chunks, then the smallest summed |reference position - test position|.
//
// Faithful to the jar in the details that decide ties: words compare by Java String.hashCode,
// weighted match counts are truncated to int after every addition (PartialAlignment keeps ints),
// the distance of a newly chosen match is added to the path it branched from, and paths are
// stable-sorted (Collections.sort).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace petl::metrics::meteor {

constexpr int kModules = 4;  // exact, stem, synonym, paraphrase

// What the matchers need to know about one word, computed once per distinct word.
struct WordKeys {
  int32_t hash = 0;                // String.hashCode of the word
  int32_t stem_hash = 0;           // String.hashCode of its Snowball stem
  std::vector<int32_t> synsets;    // its synsets and those of its base forms, sorted
  int32_t paraphrase_id = -1;      // its id in the (filtered) paraphrase table
  bool function_word = false;      // listed in function/english.words
};

struct AlignmentCounts {
  std::array<int, kModules> content1{}, content2{}, function1{}, function2{};
  int function_words1 = 0, function_words2 = 0;
  int chunks = 0;
};

class ParaphraseTable;

// Aligns test words (line 1) with reference words (line 2). `enabled[m]` switches module m.
// `paraphrases` may be null when the paraphrase module is off.
AlignmentCounts align(const std::vector<const WordKeys*>& test,
                      const std::vector<const WordKeys*>& reference,
                      const std::array<bool, kModules>& enabled, const ParaphraseTable* paraphrases);

}  // namespace petl::metrics::meteor

// METEOR 1.5's synonym module data: WordNet 3 synsets (synonym/english.synsets: a word line, then a
// line of synset ids) and irregular forms (synonym/english.exceptions: a base form line, then a
// line of its inflected forms), with WordNet's morphy suffix rules for regular forms.
// Reference: edu/cmu/meteor/aligner/SynonymDictionary.java and SynonymMatcher.java in
// meteor-1.5.jar. Two words are synonyms when the synsets of the words themselves or of their
// base forms intersect.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace petl::metrics::meteor {

class SynonymDictionary {
 public:
  SynonymDictionary() = default;
  // File texts; `where` prefixes error messages (the file names).
  SynonymDictionary(std::string_view exceptions, std::string_view synsets, std::string_view where);

  // getSynSets(word) united with getStemSynSets(word), sorted and unique.
  std::vector<int32_t> synsets_with_base_forms(const std::u32string& word) const;

 private:
  const std::vector<int32_t>* synsets(const std::u32string& word) const;
  // SynonymDictionary.morph: the first suffix rewrite whose result is a dictionary word ("" when
  // none), with its quirk of re-appending "ful" to the result for words ending in "ful".
  std::u32string morph(const std::u32string& word) const;

  std::unordered_map<std::u32string, std::vector<std::u32string>> word_to_bases_;
  std::unordered_map<std::u32string, std::vector<int32_t>> word_to_synsets_;
};

}  // namespace petl::metrics::meteor

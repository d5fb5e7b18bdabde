// METEOR 1.5's paraphrase table (paraphrase-en.gz: groups of three lines -- a probability, which
// METEOR ignores, a phrase, and its paraphrase) as the transducer of
// edu/cmu/meteor/aligner/ParaphraseTransducer.java: a trie over the first phrases whose nodes emit
// the indices of the paraphrases ending there, in file order.
//
// Only entries whose words all belong to a given vocabulary are kept: a phrase can only match a
// text whose words include all of its words, so for texts drawn from that vocabulary the filtered
// table matches exactly what the full one does, in the same order.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace petl::metrics::meteor {

// A set of UTF-8 words that can be probed with a string_view (no copy per probe).
struct WordHash {
  using is_transparent = void;
  size_t operator()(std::string_view w) const { return std::hash<std::string_view>{}(w); }
};
using WordSet = std::unordered_set<std::string, WordHash, std::equal_to<>>;

class ParaphraseTable {
 public:
  ParaphraseTable() = default;
  // Reads `path` keeping the entries over `vocabulary` (UTF-8 words). petl::Error names the file
  // and line when it is unreadable or not made of three-line groups.
  ParaphraseTable(const std::filesystem::path& path, const WordSet& vocabulary);

  // The table's id of a word, or -1 when the word is in none of the kept entries.
  int32_t id(const std::string& word) const;

  // For the phrase starting at words[start]: every (length, paraphrase index) pair into `out`,
  // shortest phrases first and file order within a length (ParaphraseTransducer.State.getPaths).
  void paths(const std::vector<int32_t>& words, size_t start,
             std::vector<std::pair<int32_t, int32_t>>& out) const;

  const std::vector<int32_t>& paraphrase(int32_t index) const { return paraphrases_[index]; }
  size_t size() const { return paraphrases_.size(); }

 private:
  struct Node {
    std::unordered_map<int32_t, int32_t> next;  // word id -> node index
    std::vector<int32_t> emit;                  // paraphrase indices
  };
  int32_t map(const std::string& word);

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<Node> nodes_{Node{}};
  std::vector<std::vector<int32_t>> paraphrases_;
};

}  // namespace petl::metrics::meteor

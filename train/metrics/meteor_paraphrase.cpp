#include "train/metrics/meteor_paraphrase.h"

#include <string_view>

#include "tensor/error.h"
#include "train/metrics/meteor_data.h"

namespace petl::metrics::meteor {
namespace {

// StringTokenizer's default delimiters; all ASCII, so UTF-8 bytes split the same way.
bool is_delimiter(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  auto delim = is_delimiter;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && delim(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !delim(line[j])) ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

int32_t ParaphraseTable::map(const std::string& word) {
  const auto [it, inserted] = vocab_.emplace(word, static_cast<int32_t>(vocab_.size()));
  return it->second;
}

ParaphraseTable::ParaphraseTable(const std::filesystem::path& path, const WordSet& vocabulary) {
  std::string phrase;  // the group's first phrase, kept until its paraphrase line arrives
  bool phrase_kept = false;
  int64_t last_line = 0;
  for_each_gzip_line(path, [&](std::string_view line, int64_t number) {
    last_line = number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const int64_t role = (number - 1) % 3;  // 0 probability, 1 phrase, 2 paraphrase
    if (role == 0) return;
    // every word known? (stops at the first unknown one, which is usually the first word)
    bool all_known = true;
    size_t i = 0;
    while (all_known && i < line.size()) {
      while (i < line.size() && is_delimiter(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_delimiter(line[j])) ++j;
      if (j > i && vocabulary.find(line.substr(i, j - i)) == vocabulary.end()) all_known = false;
      i = j;
    }
    if (role == 1) {
      phrase_kept = all_known;
      if (all_known) phrase.assign(line);
      return;
    }
    if (!phrase_kept || !all_known) return;
    std::vector<int32_t> ref_ids, par_ids;
    for (auto w : split_words(phrase)) ref_ids.push_back(map(std::string(w)));
    for (auto w : split_words(line)) par_ids.push_back(map(std::string(w)));
    // addPath: walk or grow the trie along the phrase, emit the paraphrase at its end
    int32_t node = 0;
    for (int32_t w : ref_ids) {
      const auto found = nodes_[node].next.find(w);
      if (found != nodes_[node].next.end()) {
        node = found->second;
      } else {
        nodes_.push_back(Node{});
        const auto created = static_cast<int32_t>(nodes_.size() - 1);
        nodes_[node].next.emplace(w, created);
        node = created;
      }
    }
    nodes_[node].emit.push_back(static_cast<int32_t>(paraphrases_.size()));
    paraphrases_.push_back(std::move(par_ids));
  });
  PETL_CHECK(last_line % 3 == 0, path.string(), ": ", last_line,
             " lines, expected groups of three (probability, phrase, paraphrase)");
}

int32_t ParaphraseTable::id(const std::string& word) const {
  const auto it = vocab_.find(word);
  return it == vocab_.end() ? -1 : it->second;
}

void ParaphraseTable::paths(const std::vector<int32_t>& words, size_t start,
                            std::vector<std::pair<int32_t, int32_t>>& out) const {
  out.clear();
  int32_t node = 0;
  for (size_t i = start; i < words.size(); ++i) {
    const auto next = nodes_[node].next.find(words[i]);
    if (next == nodes_[node].next.end()) break;
    node = next->second;
    for (int32_t e : nodes_[node].emit) out.emplace_back(static_cast<int32_t>(i - start + 1), e);
  }
}

}  // namespace petl::metrics::meteor

#include "train/metrics/meteor_synonyms.h"

#include <algorithm>
#include <charconv>

#include "tensor/error.h"
#include "train/metrics/meteor_text.h"

namespace petl::metrics::meteor {
namespace {

// Lines as Java's BufferedReader.readLine gives them ("\n", "\r\n" or "\r" end a line).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] != '\n' && text[j] != '\r') ++j;
    lines.push_back(text.substr(i, j - i));
    if (j < text.size() && text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ++j;
    i = j + 1;
  }
  return lines;
}

// WordNet morphy's detachment rules: nouns, verbs, adjectives, tried in this order.
constexpr std::pair<std::u32string_view, std::u32string_view> kRules[] = {
    {U"s", U""},    {U"ses", U"s"}, {U"xes", U"x"}, {U"zes", U"z"}, {U"ches", U"ch"},
    {U"shes", U"sh"}, {U"men", U"man"}, {U"ies", U"y"}, {U"s", U""},  {U"ies", U"y"},
    {U"es", U"e"},  {U"es", U""},   {U"ed", U"e"},  {U"ed", U""},   {U"ing", U"e"},
    {U"ing", U""},  {U"er", U""},   {U"est", U""},  {U"er", U"e"},  {U"est", U"e"},
};

bool ends_with(const std::u32string& w, std::u32string_view s) {
  return w.size() >= s.size() && w.compare(w.size() - s.size(), s.size(), s) == 0;
}

}  // namespace

SynonymDictionary::SynonymDictionary(std::string_view exceptions, std::string_view synsets,
                                     std::string_view where) {
  const auto exc = lines_of(exceptions);
  PETL_CHECK(exc.size() % 2 == 0, where, ": english.exceptions has ", exc.size(),
             " lines (expected pairs of a base form line and a forms line)");
  for (size_t i = 0; i < exc.size(); i += 2) {
    const std::u32string base = to_u32(exc[i], "english.exceptions");
    for (auto& form : java_tokens(to_u32(exc[i + 1], "english.exceptions")))
      word_to_bases_[form].push_back(base);
  }
  const auto syn = lines_of(synsets);
  PETL_CHECK(syn.size() % 2 == 0, where, ": english.synsets has ", syn.size(),
             " lines (expected pairs of a word line and a synset id line)");
  for (size_t i = 0; i < syn.size(); i += 2) {
    std::vector<int32_t> ids;
    std::string_view rest = syn[i + 1];
    size_t p = 0;
    while (p < rest.size()) {
      while (p < rest.size() && (rest[p] == ' ' || rest[p] == '\t')) ++p;
      size_t q = p;
      while (q < rest.size() && rest[q] != ' ' && rest[q] != '\t') ++q;
      if (q > p) {
        int32_t id = 0;
        const auto [end, ec] = std::from_chars(rest.data() + p, rest.data() + q, id);
        PETL_CHECK(ec == std::errc() && end == rest.data() + q, where, ": english.synsets line ",
                   i + 2, ": expected synset ids, found '", rest.substr(p, q - p), "'");
        ids.push_back(id);
      }
      p = q;
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    word_to_synsets_[to_u32(syn[i], "english.synsets")] = std::move(ids);  // later lines win
  }
}

const std::vector<int32_t>* SynonymDictionary::synsets(const std::u32string& word) const {
  const auto it = word_to_synsets_.find(word);
  return it == word_to_synsets_.end() ? nullptr : &it->second;
}

std::u32string SynonymDictionary::morph(const std::u32string& word) const {
  const std::u32string_view end = ends_with(word, U"ful") ? U"ful" : U"";
  if (ends_with(word, U"ss") || java_length(word) <= 2) return word;
  for (const auto& [suffix, ending] : kRules) {
    if (!ends_with(word, suffix)) continue;
    std::u32string candidate = word.substr(0, word.size() - suffix.size());
    candidate += ending;
    if (word_to_synsets_.count(candidate)) return candidate + std::u32string(end);
  }
  return U"";
}

std::vector<int32_t> SynonymDictionary::synsets_with_base_forms(const std::u32string& word) const {
  std::vector<int32_t> all;
  auto add = [&](const std::u32string& w) {
    if (const auto* s = synsets(w)) all.insert(all.end(), s->begin(), s->end());
  };
  add(word);
  const auto bases = word_to_bases_.find(word);
  if (bases != word_to_bases_.end()) {
    for (const auto& base : bases->second) add(base);
  } else {
    add(morph(word));
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace petl::metrics::meteor

// tokenizer_encode: single-threaded GPT-2 BPE encoding speed (MB/s of UTF-8 input).
//
// Text: when ../shared/data/e2e/devset.csv and ../shared/data/gpt2/ exist (run from the project
// root), the real GPT-2 vocabulary on a few MB of English built from the E2E reference sentences
// (shuffled, repeated); otherwise generated English-like text and a 2,000-token vocabulary trained
// on it with train_bpe. Alongside encode() it times the stages that bound it, in the same run:
//   utf8 scan     strict UTF-8 validation, the floor any encoder pays to look at every byte
//   pre-tokenize  the GPT-2 pattern scanner alone
//   encode cold   a fresh tokenizer (empty word cache): every new word goes through the merges
//   encode warm   the same text again: every word is a cache hit
//   unique words  random letter strings, nearly all cache misses: the merge loop's own speed
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/registry.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/utf8.h"

namespace {

using petl::tokenizer::SpecialTokens;
using petl::tokenizer::Tokenizer;
namespace fs = std::filesystem;

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best of `reps` runs, in MB/s.
double best_mbps(std::size_t bytes, int reps, const std::function<void()>& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) best = std::min(best, seconds(f));
  return static_cast<double>(bytes) / 1e6 / best;
}

// The second column ("ref") of the E2E CSV: RFC 4180 quoting, doubled quotes inside.
std::vector<std::string> e2e_refs(const fs::path& csv) {
  std::ifstream in(csv, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  std::vector<std::string> refs;
  std::string field;
  int column = 0;
  bool header = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') {
      for (++i; i < s.size(); ++i) {
        if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') {
          field += '"';
          ++i;
        } else if (s[i] == '"') {
          break;
        } else {
          field += s[i];
        }
      }
    } else if (s[i] == ',') {
      ++column;
      field.clear();
    } else if (s[i] == '\n' || s[i] == '\r') {
      if (column == 1 && !header && !field.empty()) refs.push_back(field);
      if (column > 0) header = false;
      column = 0;
      field.clear();
    } else {
      field += s[i];
    }
  }
  if (column == 1 && !field.empty()) refs.push_back(field);
  return refs;
}

// Sentences built from a Zipf-distributed list of English words.
std::string generated_english(std::size_t bytes, std::mt19937& rng) {
  static const char* words[] = {
      "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as",
      "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but",
      "not", "what", "all", "were", "we", "when", "your", "can", "said", "there", "use", "an", "each",
      "which", "she", "do", "how", "their", "if", "will", "up", "other", "about", "out", "many", "then",
      "them", "these", "so", "some", "her", "would", "make", "like", "him", "into", "time", "has", "look",
      "two", "more", "write", "go", "see", "number", "no", "way", "could", "people", "my", "than", "first",
      "water", "been", "call", "who", "oil", "its", "now", "find", "long", "down", "day", "did", "get",
      "come", "made", "may", "part", "restaurant", "coffee", "riverside", "family-friendly", "rating",
      "customer", "expensive", "located", "centre", "Italian", "Chinese", "Japanese", "pub", "near",
      "Cambridge", "price", "range", "average", "cheap", "moderate", "serves", "food", "area", "It's",
      "isn't", "they're", "£20-25", "5", "out", "of", "1", "3", "high", "low"};
  const std::size_t n = std::size(words);
  std::vector<double> weights(n);
  for (std::size_t i = 0; i < n; ++i) weights[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  std::string text;
  while (text.size() < bytes) {
    const int len = 6 + static_cast<int>(rng() % 14);
    std::string sentence;
    for (int w = 0; w < len; ++w) {
      std::string word = words[pick(rng)];
      if (w == 0) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
      sentence += (w == 0 ? "" : " ") + word;
      if (w + 1 < len && rng() % 9 == 0) sentence += ",";
    }
    text += sentence + (rng() % 5 == 0 ? ".\n" : ". ");
  }
  return text;
}

}  // namespace

PETL_BENCH("tokenizer_encode") {
  const std::size_t target = opts.quick ? (1u << 20) : (4u << 20);
  const fs::path csv = fs::path("..") / "shared" / "data" / "e2e" / "devset.csv";
  const fs::path gpt2 = fs::path("..") / "shared" / "data" / "gpt2";
  std::mt19937 rng(2024);

  std::string text;
  std::string what;
  Tokenizer tok = [&] {
    if (fs::exists(csv) && fs::exists(gpt2 / "encoder.json") && fs::exists(gpt2 / "vocab.bpe")) {
      auto refs = e2e_refs(csv);
      if (!refs.empty()) {
        while (text.size() < target) {
          std::shuffle(refs.begin(), refs.end(), rng);
          for (const auto& r : refs) {
            text += r;
            text += rng() % 4 == 0 ? "\n" : " ";
            if (text.size() >= target) break;
          }
        }
        what = "GPT-2 vocabulary (" + gpt2.string() + "), English from " + csv.string() + " (" +
               std::to_string(refs.size()) + " sentences, shuffled)";
        return Tokenizer::load_openai(gpt2);
      }
    }
    text = generated_english(target, rng);
    what = "shared data absent: generated English, 2000-token vocabulary trained here on its first 256 KB";
    const std::string_view head(text.data(), std::min<std::size_t>(text.size(), 256 << 10));
    return Tokenizer::from_model(
        petl::tokenizer::train_bpe(head, petl::tokenizer::TrainerOptions{.vocab_size = 2000}));
  }();
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("text: %.2f MB; %s\n", mb, what.c_str());

  // baseline: strict UTF-8 validation of the same bytes
  const double scan = best_mbps(text.size(), 3, [&] { petl::tokenizer::utf8::validate(text, "bench"); });
  std::size_t pieces = 0;
  const double pre = best_mbps(text.size(), 3, [&] {
    petl::tokenizer::PreTokenizer scanner(text);
    std::string_view piece;
    pieces = 0;
    while (scanner.next(piece)) ++pieces;
  });

  // cold: a fresh tokenizer (empty cache) on the whole text; warm: the same text again
  Tokenizer fresh = Tokenizer::from_model(tok.model());
  std::vector<petl::tokenizer::TokenId> ids;
  const double cold_s = seconds([&] { ids = fresh.encode(text, SpecialTokens::AsText); });
  const double warm = best_mbps(text.size(), 3, [&] { ids = fresh.encode(text, SpecialTokens::AsText); });
  const bool round_trip = fresh.decode(ids) == text;

  // cache-hostile: random lower-case words, almost every one new
  std::string unique_words;
  const std::size_t unique_target = opts.quick ? (256u << 10) : (1u << 20);
  while (unique_words.size() < unique_target) {
    unique_words += ' ';
    const int len = 3 + static_cast<int>(rng() % 9);
    for (int i = 0; i < len; ++i) unique_words += static_cast<char>('a' + rng() % 26);
  }
  Tokenizer fresh2 = Tokenizer::from_model(tok.model());
  const double unique_s = seconds([&] { fresh2.encode(unique_words, SpecialTokens::AsText); });

  std::printf("%-44s %9.1f MB/s\n", "baseline: strict UTF-8 scan", scan);
  std::printf("%-44s %9.1f MB/s  (%zu pre-tokens, %.1f bytes each)\n", "pre-tokenize only", pre, pieces,
              static_cast<double>(text.size()) / static_cast<double>(pieces));
  std::printf("%-44s %9.1f MB/s  (%zu ids, %.2f bytes/id)\n", "encode, cold cache (fresh tokenizer)", mb / cold_s,
              ids.size(), static_cast<double>(text.size()) / static_cast<double>(ids.size()));
  std::printf("%-44s %9.1f MB/s\n", "encode, warm cache", warm);
  std::printf("%-44s %9.1f MB/s  (%.2f MB)\n", "encode, unique random words (merge loop)",
              static_cast<double>(unique_words.size()) / 1e6 / unique_s, static_cast<double>(unique_words.size()) / 1e6);
  std::printf("round trip decode(encode(text)) == text: %s\n", round_trip ? "yes" : "NO");
  std::printf("single thread. English is limited by the pre-tokenizer plus one hash lookup of each\n"
              "pre-token in the word cache (cached words skip BPE); text of mostly new words is\n"
              "limited by the merge loop (one hash probe per adjacent pair per merge step).\n");
}

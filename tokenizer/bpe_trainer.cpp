#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/error.h"
#include "tokenizer/pretokenize.h"

namespace petl::tokenizer {

namespace {

using PairKey = std::uint64_t;

PairKey pack(std::int32_t a, std::int32_t b) {
  return (static_cast<PairKey>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}
std::int32_t left_of(PairKey k) { return static_cast<std::int32_t>(k >> 32); }
std::int32_t right_of(PairKey k) { return static_cast<std::int32_t>(k & 0xFFFFFFFFu); }

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Word {
  std::vector<std::int32_t> symbols;
  std::int64_t count;
};

class Trainer {
 public:
  explicit Trainer(const TrainerOptions& options) : options_(options) {
    // The 256 byte symbols, ordered by their byte-to-unicode code point (GPT-2's order).
    std::vector<int> bytes(256);
    for (int b = 0; b < 256; ++b) bytes[b] = b;
    std::sort(bytes.begin(), bytes.end(), [](int x, int y) {
      return byte_to_unicode(static_cast<unsigned char>(x)) < byte_to_unicode(static_cast<unsigned char>(y));
    });
    for (int b : bytes) {
      byte_id_[b] = static_cast<std::int32_t>(token_bytes_.size());
      add_token(std::string(1, static_cast<char>(b)));
    }
  }

  void count_words(std::string_view text) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t special = text.find(kEndOfText, pos);
      if (special == std::string_view::npos) special = text.size();
      PreTokenizer scanner(text.substr(pos, special - pos), pos);
      std::string_view piece;
      while (scanner.next(piece)) {
        auto it = word_counts_.find(piece);
        if (it == word_counts_.end()) it = word_counts_.emplace(std::string(piece), 0).first;
        ++it->second;
      }
      pos = special + kEndOfText.size();
    }
  }

  BpeModel train() {
    build_words();
    const std::size_t target = options_.vocab_size - 1;  // the last id is "<|endoftext|>"
    while (token_bytes_.size() < target) {
      if (!merge_best()) break;
    }
    BpeModel model;
    model.tokens.reserve(token_bytes_.size() + 1);
    for (const auto& bytes : token_bytes_) model.tokens.push_back(bytes_to_symbols(bytes));
    model.tokens.emplace_back(kEndOfText);
    model.merges.reserve(merges_.size());
    for (auto [a, b] : merges_) model.merges.emplace_back(model.tokens[a], model.tokens[b]);
    return model;
  }

 private:
  struct Candidate {
    std::int64_t count;
    PairKey pair;
  };

  // "Comes later" for the max-heap: lower count, or equal count and larger bytes.
  struct Later {
    const Trainer* t;
    bool operator()(const Candidate& x, const Candidate& y) const {
      if (x.count != y.count) return x.count < y.count;
      const std::string& xl = t->token_bytes_[left_of(x.pair)];
      const std::string& yl = t->token_bytes_[left_of(y.pair)];
      if (int c = xl.compare(yl); c != 0) return c > 0;
      return t->token_bytes_[right_of(x.pair)].compare(t->token_bytes_[right_of(y.pair)]) > 0;
    }
  };

  std::int32_t add_token(std::string bytes) {
    const auto id = static_cast<std::int32_t>(token_bytes_.size());
    token_ids_.emplace(bytes, id);
    token_bytes_.push_back(std::move(bytes));
    return id;
  }

  void build_words() {
    // Sorted words make every internal order (and so any debugging output) reproducible.
    std::vector<std::pair<std::string_view, std::int64_t>> sorted;
    sorted.reserve(word_counts_.size());
    for (const auto& [w, c] : word_counts_) sorted.emplace_back(w, c);
    std::sort(sorted.begin(), sorted.end());
    words_.reserve(sorted.size());
    for (const auto& [w, c] : sorted) {
      Word word{{}, c};
      for (char ch : w) word.symbols.push_back(byte_id_[static_cast<unsigned char>(ch)]);
      const auto index = static_cast<std::uint32_t>(words_.size());
      for (std::size_t i = 0; i + 1 < word.symbols.size(); ++i) {
        const PairKey k = pack(word.symbols[i], word.symbols[i + 1]);
        pair_counts_[k] += c;
        auto& list = where_[k];
        if (list.empty() || list.back() != index) list.push_back(index);
      }
      words_.push_back(std::move(word));
    }
    word_counts_.clear();
    heap_ = std::priority_queue<Candidate, std::vector<Candidate>, Later>(Later{this});
    for (const auto& [k, c] : pair_counts_) heap_.push({c, k});
  }

  // Merges the best pair everywhere; false when no pair is frequent enough.
  bool merge_best() {
    for (;;) {
      if (heap_.empty()) return false;
      const Candidate top = heap_.top();
      heap_.pop();
      auto it = pair_counts_.find(top.pair);
      const std::int64_t current = it == pair_counts_.end() ? 0 : it->second;
      if (current != top.count) {  // stale entry: counts changed since it was pushed
        if (current > 0) heap_.push({current, top.pair});
        continue;
      }
      if (current < static_cast<std::int64_t>(options_.min_pair_count) || current <= 0) return false;
      apply_merge(top.pair);
      return true;
    }
  }

  void apply_merge(PairKey pair) {
    const std::int32_t a = left_of(pair), b = right_of(pair);
    std::string merged = token_bytes_[a] + token_bytes_[b];
    auto existing = token_ids_.find(merged);
    const std::int32_t ab = existing != token_ids_.end() ? existing->second : add_token(std::move(merged));
    merges_.emplace_back(a, b);

    std::unordered_map<PairKey, std::int64_t> delta;
    auto account = [&](const Word& w, std::int64_t sign, std::uint32_t index) {
      for (std::size_t i = 0; i + 1 < w.symbols.size(); ++i) {
        const PairKey k = pack(w.symbols[i], w.symbols[i + 1]);
        delta[k] += sign * w.count;
        if (sign > 0 && (w.symbols[i] == ab || w.symbols[i + 1] == ab)) {
          auto& list = where_[k];
          if (list.empty() || list.back() != index) list.push_back(index);
        }
      }
    };
    const std::vector<std::uint32_t> affected = std::move(where_[pair]);
    where_.erase(pair);
    for (std::uint32_t index : affected) {
      Word& w = words_[index];
      bool has = false;
      for (std::size_t i = 0; i + 1 < w.symbols.size() && !has; ++i) has = w.symbols[i] == a && w.symbols[i + 1] == b;
      if (!has) continue;  // an older listing; the word no longer holds the pair
      account(w, -1, index);
      std::size_t out = 0;
      for (std::size_t i = 0; i < w.symbols.size();) {
        if (i + 1 < w.symbols.size() && w.symbols[i] == a && w.symbols[i + 1] == b) {
          w.symbols[out++] = ab;
          i += 2;
        } else {
          w.symbols[out++] = w.symbols[i++];
        }
      }
      w.symbols.resize(out);
      account(w, +1, index);
    }
    for (const auto& [k, d] : delta) {
      if (d == 0) continue;
      auto& count = pair_counts_[k];
      count += d;
      if (count <= 0) {
        pair_counts_.erase(k);
      } else if (d > 0) {
        heap_.push({count, k});
      }
    }
  }

  TrainerOptions options_;
  std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> word_counts_;
  std::vector<std::string> token_bytes_;  // raw bytes of each token, by id
  std::unordered_map<std::string, std::int32_t> token_ids_;
  std::int32_t byte_id_[256] = {};
  std::vector<std::pair<std::int32_t, std::int32_t>> merges_;
  std::vector<Word> words_;
  std::unordered_map<PairKey, std::int64_t> pair_counts_;
  std::unordered_map<PairKey, std::vector<std::uint32_t>> where_;  // pair -> words holding it (maybe stale)
  std::priority_queue<Candidate, std::vector<Candidate>, Later> heap_{Later{this}};
};

}  // namespace

BpeModel train_bpe(std::span<const std::string_view> texts, const TrainerOptions& options) {
  if (options.vocab_size < 257) {
    throw TokenizerError("train_bpe: vocab_size " + std::to_string(options.vocab_size) +
                         " is too small: expected at least 257 (256 byte symbols + <|endoftext|>)");
  }
  if (options.vocab_size > static_cast<std::size_t>(INT32_MAX)) throw TokenizerError("train_bpe: vocab_size too large");
  Trainer trainer(options);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      trainer.count_words(texts[i]);
    } catch (const TokenizerError& e) {
      throw TokenizerError("train_bpe: text " + std::to_string(i) + ": " + e.what());
    }
  }
  return trainer.train();
}

BpeModel train_bpe(std::string_view corpus, const TrainerOptions& options) {
  return train_bpe(std::span<const std::string_view>(&corpus, 1), options);
}

}  // namespace petl::tokenizer

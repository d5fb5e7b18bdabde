// The merge rules of a BPE model as a hash table keyed by a pair of token ids, and the merge loop
// that turns one pre-token's byte ids into its final ids.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tokenizer/model.h"

namespace petl::tokenizer {

class MergeTable {
 public:
  struct Rule {
    std::int32_t rank;  // position in the merges file: lower merges first
    TokenId result;     // id of left + right
  };

  // rules[rank] = {left id, right id, result id}.
  struct Entry {
    TokenId left, right, result;
  };
  explicit MergeTable(const std::vector<Entry>& rules);
  MergeTable() = default;

  // The rule for the adjacent pair (left, right), or nullptr when they never merge.
  const Rule* find(TokenId left, TokenId right) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t key = pack(left, right);
    for (std::size_t i = hash(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.rule;
      if (s.key == kEmpty) return nullptr;
    }
  }

  std::size_t size() const { return size_; }

  // True when every rule comes after all rules that create its two parts. Then a new pair can
  // never outrank the rule that created it, and the heap loop below gives exactly the
  // reference result; otherwise apply() always uses the reference loop.
  bool creation_ordered() const { return creation_ordered_; }

  // Applies the merges to `symbols` in place, exactly as GPT-2's bpe(): repeatedly take the
  // lowest-ranked adjacent pair present and merge all its occurrences left to right.
  void apply(std::vector<TokenId>& symbols) const;

  // The two implementations behind apply(), public so tests can check they agree.
  // Reference loop: O(n^2) on a small vector, fastest for ordinary words.
  void apply_simple(std::vector<TokenId>& symbols) const;
  // Linked list + min-heap of candidate pairs: O(n log n) for very long pre-tokens.
  void apply_heap(std::vector<TokenId>& symbols) const;

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  struct Slot {
    std::uint64_t key = kEmpty;
    Rule rule{};
  };
  static std::uint64_t pack(TokenId a, TokenId b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  std::size_t hash(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
  bool creation_ordered_ = true;
};

}  // namespace petl::tokenizer

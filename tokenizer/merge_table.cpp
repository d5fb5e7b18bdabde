#include "tokenizer/merge_table.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <unordered_map>

namespace petl::tokenizer {

namespace {
// Pre-tokens longer than this use the heap loop (when the rules allow it).
constexpr std::size_t kHeapThreshold = 48;
}  // namespace

MergeTable::MergeTable(const std::vector<Entry>& rules) {
  if (rules.empty()) return;
  const std::size_t capacity = std::bit_ceil(rules.size() * 2 + 1);
  slots_.resize(capacity);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  std::unordered_map<TokenId, std::int32_t> last_created;  // token -> highest rank creating it
  for (std::size_t rank = 0; rank < rules.size(); ++rank) {
    const Entry& e = rules[rank];
    const std::uint64_t key = pack(e.left, e.right);
    std::size_t i = hash(key);
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == key) continue;  // a repeated pair keeps its first (lowest) rank
    slots_[i].key = key;
    slots_[i].rule = {static_cast<std::int32_t>(rank), e.result};
    ++size_;
    auto& r = last_created[e.result];
    r = std::max(r, static_cast<std::int32_t>(rank));
  }
  for (std::size_t rank = 0; rank < rules.size() && creation_ordered_; ++rank) {
    for (TokenId part : {rules[rank].left, rules[rank].right}) {
      auto it = last_created.find(part);
      if (it != last_created.end() && it->second >= static_cast<std::int32_t>(rank)) creation_ordered_ = false;
    }
  }
}

void MergeTable::apply(std::vector<TokenId>& symbols) const {
  if (symbols.size() > kHeapThreshold && creation_ordered_) {
    apply_heap(symbols);
  } else {
    apply_simple(symbols);
  }
}

void MergeTable::apply_simple(std::vector<TokenId>& s) const {
  std::size_t n = s.size();
  if (n < 2) return;
  // rule[i] is the rule of the pair (s[i], s[i+1]); after a merge only the pairs next to a new
  // symbol are looked up again. fresh[i] marks the symbols the last merge produced.
  thread_local std::vector<Rule> rule;
  thread_local std::vector<unsigned char> fresh;
  rule.resize(n);
  fresh.assign(n, 0);
  auto lookup = [&](std::size_t i) {
    const Rule* r = find(s[i], s[i + 1]);
    rule[i] = r != nullptr ? *r : Rule{INT32_MAX, 0};
  };
  for (std::size_t i = 0; i + 1 < n; ++i) lookup(i);
  for (;;) {
    // The lowest-ranked pair; strict < keeps its leftmost occurrence.
    std::int32_t best_rank = INT32_MAX;
    std::size_t first = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (rule[i].rank < best_rank) {
        best_rank = rule[i].rank;
        first = i;
      }
    }
    if (best_rank == INT32_MAX) break;
    const TokenId left = s[first], right = s[first + 1], result = rule[first].result;
    // Merge every occurrence, left to right, compacting in place.
    std::size_t out = first;
    for (std::size_t i = first; i < n;) {
      if (i + 1 < n && s[i] == left && s[i + 1] == right) {
        s[out] = result;
        fresh[out++] = 1;
        i += 2;
      } else {
        s[out] = s[i];
        rule[out] = rule[i];
        fresh[out++] = 0;
        ++i;
      }
    }
    n = out;
    if (n < 2) break;
    for (std::size_t i = first > 0 ? first - 1 : 0; i + 1 < n; ++i) {
      if (fresh[i] || fresh[i + 1]) lookup(i);
    }
  }
  s.resize(n);
}

void MergeTable::apply_heap(std::vector<TokenId>& s) const {
  const auto n = static_cast<std::int32_t>(s.size());
  if (n < 2) return;
  struct Candidate {
    std::int32_t rank, pos;
    TokenId left, right, result;
  };
  // Min-heap on (rank, position): equal ranks merge left to right, like the reference loop.
  auto later = [](const Candidate& a, const Candidate& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
  std::vector<Candidate> heap;
  std::vector<std::int32_t> prev(n), next(n);
  for (std::int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto push = [&](std::int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    const TokenId a = s[pos], b = s[next[pos]];
    if (const Rule* r = find(a, b)) {
      heap.push_back({r->rank, pos, a, b, r->result});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) push(i);
  constexpr TokenId kGone = -1;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    // Stale when either symbol has been merged away or changed since the candidate was pushed.
    const std::int32_t right_pos = next[c.pos];
    if (s[c.pos] != c.left || right_pos < 0 || s[right_pos] != c.right) continue;
    s[c.pos] = c.result;
    s[right_pos] = kGone;
    next[c.pos] = next[right_pos];
    if (next[c.pos] >= 0) prev[next[c.pos]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  std::size_t out = 0;
  for (std::int32_t i = 0; i >= 0; i = next[i]) s[out++] = s[i];
  s.resize(out);
}

}  // namespace petl::tokenizer

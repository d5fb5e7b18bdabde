#include "train/metrics/lexer_regex.h"

#include <algorithm>

#include "tensor/error.h"
#include "tokenizer/unicode_tables.h"

namespace petl::metrics::lexer {

namespace {
bool in_ranges(std::span<const tokenizer::unicode::CodePointRange> ranges, char32_t c) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                             [](char32_t v, const tokenizer::unicode::CodePointRange& r) { return v < r.first; });
  return it != ranges.begin() && c <= (it - 1)->last;
}
}  // namespace

Regex::Node Regex::class_node(int cls) {
  Node node{Node::Class, cls, {}};
  return node;
}

namespace {
std::string narrow(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) out.push_back(c < 0x80 ? char(c) : '?');
  return out;
}
}  // namespace

bool is_java_letter(char32_t c) { return in_ranges(tokenizer::unicode::letter_ranges(), c); }

bool is_java_digit(char32_t c) {
  // Character.isDigit: general category Nd. The \p{N} table also holds Nl and No (letter-like
  // numerals, superscripts, fractions); those are excluded by the blocks they live in.
  if (c >= '0' && c <= '9') return true;
  if (c < 0x660) return false;
  if ((c >= 0x2150 && c <= 0x218F) || (c >= 0x2460 && c <= 0x24FF) || (c >= 0x2070 && c <= 0x209F) ||
      (c >= 0x2776 && c <= 0x2793) || (c >= 0x3007 && c <= 0x303A) || (c >= 0x3192 && c <= 0x3195) ||
      (c >= 0x3220 && c <= 0x3229) || (c >= 0x3248 && c <= 0x325F) || (c >= 0x3280 && c <= 0x3289) ||
      (c >= 0x32B1 && c <= 0x32BF) || c == 0x00B2 || c == 0x00B3 || c == 0x00B9 || (c >= 0x00BC && c <= 0x00BE) ||
      (c >= 0x09F4 && c <= 0x09F9) || (c >= 0x0BF0 && c <= 0x0BF2) || (c >= 0x16EE && c <= 0x16F0) ||
      (c >= 0x2CFD && c <= 0x2CFD) || (c >= 0x1372 && c <= 0x137C) || (c >= 0x0F2A && c <= 0x0F33))
    return false;
  return in_ranges(tokenizer::unicode::number_ranges(), c);
}

bool Regex::CharClass::contains(char32_t c) const {
  bool hit = (any_but_newline && c != '\n') || (letter && is_java_letter(c)) || (digit && is_java_digit(c));
  for (const auto& [first, last] : ranges) hit = hit || (c >= first && c <= last);
  return hit != negated;
}

Regex::Regex(std::u32string_view pattern, bool caseless) : pattern_(pattern), caseless_(caseless) {
  const int root = parse_alternation();
  PETL_CHECK(pos_ == pattern_.size(), "lexer regex: unexpected character at ", pos_, " in ", narrow(pattern_));
  compile(root);
  emit({Op::Match});
  std::vector<bool> seen(program_.size(), false);
  std::vector<int> stack{0};
  while (!stack.empty()) {
    const int pc = stack.back();
    stack.pop_back();
    if (seen[std::size_t(pc)]) continue;
    seen[std::size_t(pc)] = true;
    const Inst& inst = program_[std::size_t(pc)];
    if (inst.op == Op::Jump) stack.push_back(inst.arg);
    if (inst.op == Op::Split) {
      stack.push_back(inst.arg);
      stack.push_back(inst.arg2);
    }
    if (inst.op == Op::Char) first_classes_.push_back(inst.arg);
    if (inst.op == Op::Match) matches_empty_ = true;
  }
}

bool Regex::can_start_with(char32_t c) const {
  for (int cls : first_classes_)
    if (classes_[std::size_t(cls)].contains(c)) return true;
  return false;
}

int Regex::add_node(Node node) {
  nodes_.push_back(std::move(node));
  return int(nodes_.size()) - 1;
}
int Regex::add_class(CharClass cls) {
  classes_.push_back(std::move(cls));
  return int(classes_.size()) - 1;
}
int Regex::emit(Inst inst) {
  program_.push_back(inst);
  return int(program_.size()) - 1;
}

int Regex::parse_alternation() {
  std::vector<int> options{parse_concatenation()};
  while (pos_ < pattern_.size() && pattern_[pos_] == '|') {
    ++pos_;
    options.push_back(parse_concatenation());
  }
  if (options.size() == 1) return options[0];
  Node alt{Node::Alt, -1, options};
  return add_node(std::move(alt));
}

int Regex::parse_concatenation() {
  std::vector<int> parts;
  while (pos_ < pattern_.size() && pattern_[pos_] != '|' && pattern_[pos_] != ')') parts.push_back(parse_repetition());
  Node concat{Node::Concat, -1, parts};
  return add_node(std::move(concat));
}

int Regex::parse_repetition() {
  int atom = parse_atom();
  while (pos_ < pattern_.size()) {
    const char32_t c = pattern_[pos_];
    int lo, hi;
    if (c == '*') {
      lo = 0, hi = -1, ++pos_;
    } else if (c == '+') {
      lo = 1, hi = -1, ++pos_;
    } else if (c == '?') {
      lo = 0, hi = 1, ++pos_;
    } else if (c == '{') {
      std::size_t p = pos_ + 1;
      auto number = [&] {
        int v = 0;
        PETL_CHECK(p < pattern_.size() && pattern_[p] >= '0' && pattern_[p] <= '9', "lexer regex: bad {m,n} in ",
                   narrow(pattern_));
        while (p < pattern_.size() && pattern_[p] >= '0' && pattern_[p] <= '9') v = v * 10 + int(pattern_[p++] - '0');
        return v;
      };
      lo = number();
      hi = lo;
      if (pattern_[p] == ',') {
        ++p;
        hi = number();
      }
      PETL_CHECK(pattern_[p] == '}', "lexer regex: bad {m,n} in ", narrow(pattern_));
      pos_ = p + 1;
    } else {
      break;
    }
    Node rep{Node::Repeat, -1, {atom}};
    rep.min = lo;
    rep.max = hi;
    atom = add_node(rep);
  }
  return atom;
}

char32_t Regex::parse_escape() {
  // at the character after the backslash
  const char32_t c = pattern_[pos_++];
  if (c == 'u') {
    char32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char32_t h = pattern_[pos_++];
      v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
  }
  if (c == 't') return '\t';
  if (c == 'n') return '\n';
  if (c == 'r') return '\r';
  if (c == 'f') return '\f';
  return c;
}

int Regex::parse_class() {
  // at the character after '['
  CharClass cls;
  if (pattern_[pos_] == '^') {
    cls.negated = true;
    ++pos_;
  }
  bool first = true;
  while (pos_ < pattern_.size() && (pattern_[pos_] != ']' || first)) {
    first = false;
    if (pattern_.compare(pos_, 10, U"[:letter:]") == 0) {
      cls.letter = true;
      pos_ += 10;
      continue;
    }
    if (pattern_.compare(pos_, 9, U"[:digit:]") == 0) {
      cls.digit = true;
      pos_ += 9;
      continue;
    }
    char32_t lo = pattern_[pos_++];
    if (lo == '\\') lo = parse_escape();
    char32_t hi = lo;
    if (pos_ + 1 < pattern_.size() && pattern_[pos_] == '-' && pattern_[pos_ + 1] != ']') {
      ++pos_;
      hi = pattern_[pos_++];
      if (hi == '\\') hi = parse_escape();
    }
    cls.ranges.emplace_back(lo, hi);
  }
  PETL_CHECK(pos_ < pattern_.size(), "lexer regex: unterminated class in ", narrow(pattern_));
  ++pos_;  // ']'
  return add_node(class_node(add_class(std::move(cls))));
}

int Regex::parse_atom() {
  const char32_t c = pattern_[pos_];
  if (c == '(') {
    ++pos_;
    const int inner = parse_alternation();
    PETL_CHECK(pos_ < pattern_.size() && pattern_[pos_] == ')', "lexer regex: missing ) in ", narrow(pattern_));
    ++pos_;
    return inner;
  }
  if (c == '[') {
    if (pattern_.compare(pos_, 10, U"[:letter:]") == 0 || pattern_.compare(pos_, 9, U"[:digit:]") == 0) {
      CharClass cls;
      const bool letter = pattern_[pos_ + 2] == 'l';
      (letter ? cls.letter : cls.digit) = true;
      pos_ += letter ? 10 : 9;
      return add_node(class_node(add_class(std::move(cls))));
    }
    ++pos_;
    return parse_class();
  }
  CharClass cls;
  if (c == '.') {
    ++pos_;
    cls.any_but_newline = true;
    return add_node(class_node(add_class(std::move(cls))));
  }
  ++pos_;
  char32_t lit = c;
  if (c == '\\') lit = parse_escape();
  cls.ranges.emplace_back(lit, lit);
  if (caseless_ && lit < 0x80 && ((lit | 0x20) >= 'a' && (lit | 0x20) <= 'z')) {
    const char32_t other = lit ^ 0x20;
    cls.ranges.emplace_back(other, other);
  }
  return add_node(class_node(add_class(std::move(cls))));
}

void Regex::compile(int index) {
  const Node node = nodes_[std::size_t(index)];
  switch (node.kind) {
    case Node::Class:
      emit({Op::Char, node.cls});
      return;
    case Node::Concat:
      for (int child : node.children) compile(child);
      return;
    case Node::Alt: {
      // split L1, next; L1: a; jump end; next: split ... ; last option plain
      std::vector<int> jumps;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        if (i + 1 == node.children.size()) {
          compile(node.children[i]);
          break;
        }
        const int split = emit({Op::Split});
        program_[std::size_t(split)].arg = int(program_.size());
        compile(node.children[i]);
        jumps.push_back(emit({Op::Jump}));
        program_[std::size_t(split)].arg2 = int(program_.size());
      }
      for (int j : jumps) program_[std::size_t(j)].arg = int(program_.size());
      return;
    }
    case Node::Repeat: {
      const int child = node.children[0];
      for (int i = 0; i < node.min; ++i) compile(child);
      if (node.max < 0) {
        // loop: split body, exit; body; jump loop
        const int split = emit({Op::Split});
        program_[std::size_t(split)].arg = int(program_.size());
        compile(child);
        emit({Op::Jump, split});
        program_[std::size_t(split)].arg2 = int(program_.size());
      } else {
        std::vector<int> splits;
        for (int i = node.min; i < node.max; ++i) {
          const int split = emit({Op::Split});
          program_[std::size_t(split)].arg = int(program_.size());
          splits.push_back(split);
          compile(child);
        }
        for (int s : splits) program_[std::size_t(s)].arg2 = int(program_.size());
      }
      return;
    }
  }
}

std::vector<std::size_t> Regex::match_lengths(std::u32string_view text, std::size_t pos) const {
  std::vector<std::size_t> lengths;
  std::vector<int> current, next;
  std::vector<std::size_t> seen(program_.size(), std::size_t(-1));
  std::size_t generation = 0;
  bool matched_here = false;
  // Adds pc and everything reachable from it by Split/Jump to `list`.
  auto add = [&](auto&& self, std::vector<int>& list, int pc) -> void {
    if (seen[std::size_t(pc)] == generation) return;
    seen[std::size_t(pc)] = generation;
    const Inst& inst = program_[std::size_t(pc)];
    if (inst.op == Op::Jump) {
      self(self, list, inst.arg);
    } else if (inst.op == Op::Split) {
      self(self, list, inst.arg);
      self(self, list, inst.arg2);
    } else if (inst.op == Op::Match) {
      matched_here = true;
    } else {
      list.push_back(pc);
    }
  };
  add(add, current, 0);
  for (std::size_t i = pos;; ++i) {
    if (matched_here) lengths.push_back(i - pos);
    if (current.empty() || i >= text.size()) break;
    ++generation;
    matched_here = false;
    next.clear();
    for (int pc : current)
      if (classes_[std::size_t(program_[std::size_t(pc)].arg)].contains(text[i])) add(add, next, pc + 1);
    std::swap(current, next);
  }
  return lengths;
}

long Regex::longest(std::u32string_view text, std::size_t pos) const {
  const auto lengths = match_lengths(text, pos);
  return lengths.empty() ? -1 : long(lengths.back());
}

}  // namespace petl::metrics::lexer

// A small regular-expression engine for longest-match lexing, the way JFlex-generated scanners
// work: compile a pattern once, then ask for every length at which it matches a prefix of the
// input at a given position. Used to transcribe the rules of Stanford's PTBLexer.flex
// (ptb_tokenizer.cpp). Thompson NFA simulation, so matching is linear in the match length.
//
// Syntax (a subset of JFlex's): literals, \-escapes (\uXXXX, \t \n \r \f, any other escaped
// character is itself), '.' (any code point but \n), character classes [...] with ranges,
// negation and the Java classes [:letter:] / [:digit:] (also usable outside brackets), groups,
// '|', and the quantifiers * + ? {m} {m,n}. With `caseless`, ASCII letters outside classes match
// both cases (JFlex's %caseless does not apply inside classes either).
#pragma once
#include <cstddef>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

namespace petl::metrics::lexer {

class Regex {
 public:
  Regex(std::u32string_view pattern, bool caseless);
  // Every n such that the pattern matches text[pos, pos + n), ascending (n = 0 included when the
  // empty string matches).
  std::vector<std::size_t> match_lengths(std::u32string_view text, std::size_t pos) const;
  // The largest such n, or -1.
  long longest(std::u32string_view text, std::size_t pos) const;
  // False when no non-empty match can start with c (a fast pre-check for lexers).
  bool can_start_with(char32_t c) const;

 private:
  struct CharClass {
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool letter = false, digit = false, any_but_newline = false, negated = false;
    bool contains(char32_t c) const;
  };
  struct Node {  // the parsed pattern
    enum Kind { Class, Concat, Alt, Repeat } kind;
    int cls = -1;                 // Class
    std::vector<int> children;    // Concat, Alt; Repeat: one child
    int min = 0, max = -1;        // Repeat; max -1: unbounded
  };
  enum class Op { Char, Split, Jump, Match };
  struct Inst {
    Op op;
    int arg = -1;  // Char: class index; Jump: target; Split: first target
    int arg2 = -1; // Split: second target
  };

  int parse_alternation();
  int parse_concatenation();
  int parse_repetition();
  int parse_atom();
  int parse_class();
  char32_t parse_escape();
  int add_node(Node node);
  static Node class_node(int cls);
  int add_class(CharClass cls);
  void compile(int node);
  int emit(Inst inst);

  std::u32string pattern_;
  std::size_t pos_ = 0;
  bool caseless_;
  std::vector<Node> nodes_;
  std::vector<CharClass> classes_;
  std::vector<Inst> program_;
  std::vector<int> first_classes_;  // classes of the Char instructions reachable without input
  bool matches_empty_ = false;
};

// Java's Character.isLetter / isDigit, as JFlex's [:letter:] and [:digit:].
bool is_java_letter(char32_t c);
bool is_java_digit(char32_t c);

}  // namespace petl::metrics::lexer

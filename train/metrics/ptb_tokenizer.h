// The tokenization the E2E scorer's COCO metrics (ROUGE-L, CIDEr, METEOR) see: pycocoevalcap's
// PTBTokenizer wrapper (pycocoevalcap/tokenizer/ptbtokenizer.py in pycocoevalcap 1.2 and in
// tuetschek/e2e-metrics) runs Stanford CoreNLP 3.4.1's edu.stanford.nlp.process.PTBTokenizer
// with -preserveLines -lowerCase, then drops the tokens in its PUNCTUATIONS list.
// ptb_tokenize() reimplements the lexer: the rules of PTBLexer.flex (default options:
// traditional-treebank mode, PTB3 escaping, untokenizable characters deleted) in the same
// order, with JFlex's longest-match / first-rule semantics (see lexer_regex.h).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace petl::metrics {

// PTBTokenizer -preserveLines -lowerCase on one line: its tokens, lowercased.
std::vector<std::string> ptb_tokenize(std::string_view line);

// The same over the lines of one tokenizer run: the wrapper writes them to one file, and the
// lexer's look-ahead can see the start of the next line (e.g. "No." before a capital).
std::vector<std::vector<std::string>> ptb_tokenize_lines(const std::vector<std::string>& lines);

// What pycocoevalcap hands to its scorers for one caption: ptb_tokenize, minus the tokens
// '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ; (compared after lowercasing, so the
// lowercased -lrb- / -rrb- / -lcb- / -rcb- survive), joined by single spaces.
std::string coco_tokenize(std::string_view caption);
// coco_tokenize over one tokenizer run (all references, or all outputs, in the wrapper's order).
std::vector<std::string> coco_tokenize_lines(const std::vector<std::string>& captions);

}  // namespace petl::metrics

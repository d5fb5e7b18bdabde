// RDF-style (subject, property, object) triples, the input of WebNLG and DART, and their
// linearization into a GPT-2 source string as the papers' code does it (PEFT.md §19):
//
//   LoRA (microsoft/LoRA examples/NLG/src/format_converting_{webnlg,dart}.py) and Li & Liang's
//   DART loader: "s1 : p1 : o1 | s2 : p2 : o2" (" | " between triples only).
//   Li & Liang's WebNLG loader (PrefixTuning gpt2/language_modeling.py): " | s1 : p1 : o1 | s2 :
//   p2 : o2" (" | " before every triple, so the string starts with " | ").
//   DART (both): the property lower-cased first; WebNLG keeps it as written.
#pragma once
#include <string>
#include <vector>

namespace petl::data {

struct Triple {
  std::string subject;
  std::string property;
  std::string object;
};

enum class TripleSeparator {
  between,  // LoRA: " | " between triples
  leading,  // Li & Liang WebNLG: " | " before each triple
};

// "subject : property : object" joined as `separator` says; `lowercase_property` for DART
// (Python str.lower() for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters).
std::string linearize_triples(const std::vector<Triple>& triples, TripleSeparator separator,
                              bool lowercase_property);

}  // namespace petl::data

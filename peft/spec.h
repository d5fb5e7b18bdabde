// A PEFT method as data: the Unified View's axes (He et al. 2022; shared/PEFT.md §13) written as a
// spec string, parsed, checked and printed back. Grammar (whitespace around tokens is ignored):
//
//   spec   := entry ( "+" entry )*
//   entry  := preset                                  a bare preset name (peft/presets.h)
//           | method [ ":" key "=" value ( "," key "=" value )* ] [ "@" site ( "," site )* ]
//
// e.g. `prefix:l=30@attn + parallel:r=512,s=4@ffn` is MAM. Each method is one row of the Unified
// View table, its axes fixed by the method and its keys:
//
//   method       functional form             insertion   modified representation     composition
//   full         (the weights move)          -           every weight                -
//   ft_top       (the last k blocks move)    -           top blocks' weights         -
//   bitfit       const(Δb)                   parallel    every bias                  add
//   lora         lowrank(r), identity act    parallel    projection outputs          scaled add (α/r)
//   ia3          scale(l)                    -           k, v, ffn hidden            multiply
//   prefix       softmax_attention(l)        parallel    heads (keys/values)         gated (λ)
//   prompt       extra input rows            -           layer-0 input               concat
//   sequential   bottleneck(r, act)          sequential  sublayer output             add
//   parallel     bottleneck(r, relu)         parallel    sublayer output or heads    add / scaled add (s)
//   mh_parallel  relu_attention(r)           parallel    heads (head-wise)           add
//
// Sites are named by what they are in either model (peft/compose.cpp maps them to GPT-2's or BART's
// SiteMap): attn, self_attn, cross_attn, ffn, heads (sublayers); q, k, v, qkv, o, fc1, fc2,
// ffn_hidden (linear maps); input (the token embeddings). Values: integers; ranks as an integer or
// "d/N" (the model width over N, AdapterHub's reduction_factor); reals; true/false; or a named
// choice. Parsing fills every key's default, so a parsed spec prints back in one canonical form
// (every key that applies, in the method's order, sites in the given order) and print -> parse -> print is the
// identity. Any unknown method, key, value or site, or an entry repeated where it cannot be, is a
// petl::Error that lists the valid choices.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace petl::peft {

// One key a method accepts.
struct SpecKey {
  enum class Kind { Integer, Rank, Real, RealOrLearned, Bool, Choice };
  std::string name;
  Kind kind = Kind::Integer;
  std::string default_value;
  std::vector<std::string> choices;  // Kind::Choice
  std::string meaning;
  // A key that applies only when another key has a given value (prefix's MLP width k only with
  // reparam=mlp): otherwise it is absent from the entry, and giving it is an error.
  std::string only_if_key, only_if_value;
};

// One method of the spec language: its Unified View row, keys and sites.
struct SpecMethod {
  std::string name;
  std::string form, insertion, representation, composition;  // the Unified View axes (PEFT.md §13.2)
  std::vector<SpecKey> keys;
  std::vector<std::string> sites, default_sites;
  std::string reference;  // where it is specified / implemented
};

// Every method, in the order of the table above.
const std::vector<SpecMethod>& spec_methods();
const SpecMethod& spec_method(const std::string& name);  // error listing the methods when unknown

struct SpecEntry {
  std::string method;
  std::vector<std::pair<std::string, std::string>> values;  // every key of the method, canonical
  std::vector<std::string> sites;

  const std::string& value(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  int64_t rank(const std::string& key, int64_t width) const;  // "d/N" resolved against the width
  double real(const std::string& key) const;
  bool flag(const std::string& key) const;
  bool has_site(const std::string& site) const;
  bool operator==(const SpecEntry&) const = default;
};

struct Spec {
  std::vector<SpecEntry> entries;
  bool operator==(const Spec&) const = default;
};

// Parses and checks a spec string (presets expanded); errors name the entry and list the choices.
Spec parse_spec(const std::string& text);
// The canonical string: "method:key=value,...@site,..." entries joined by " + ".
std::string to_string(const Spec& spec);
std::string to_string(const SpecEntry& entry);

}  // namespace petl::peft

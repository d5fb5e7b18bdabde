// A byte-level BPE model as its files hold it: the vocabulary (symbol string per id) and the merge
// list in rank order. Symbol strings are written with GPT-2's byte-to-unicode alphabet
// (byte_unicode.h); special tokens such as "<|endoftext|>" are literal text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petl::tokenizer {

using TokenId = std::int32_t;

// GPT-2's document separator, id 50256 in the GPT-2 vocabulary.
inline constexpr std::string_view kEndOfText = "<|endoftext|>";

struct BpeModel {
  std::vector<std::string> tokens;                          // tokens[id] = symbol string
  std::vector<std::pair<std::string, std::string>> merges;  // merges[rank] = (left, right)
};

}  // namespace petl::tokenizer

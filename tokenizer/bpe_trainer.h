// Learning a byte-level BPE vocabulary from text, GPT-2 style.
//
// The initial vocabulary is the 256 byte symbols, in GPT-2's id order (ordered by the code point
// of their byte-to-unicode symbol: '!'=0 ... 'Ń'=255). The corpus is pre-tokenized exactly as
// encode() does it (pretokenize.h) and each distinct pre-token becomes a word with a count;
// occurrences of "<|endoftext|>" are boundaries and are not learned from. Then, repeatedly:
// count every adjacent symbol pair over all words (weighted by word count), merge the most
// frequent pair everywhere, and append the merged symbol to the vocabulary, until the vocabulary
// (with "<|endoftext|>" added as the very last id) reaches the requested size.
//
// Ties are broken deterministically: among pairs with equal counts the one whose left symbol's
// bytes sort first wins (unsigned byte order, a prefix before its extensions), then the one whose
// right symbol's bytes sort first. So the result depends only on the corpus and the options.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tokenizer/model.h"

namespace petl::tokenizer {

struct TrainerOptions {
  // Final vocabulary size: 256 byte symbols + learned merges + "<|endoftext|>". At least 257.
  std::size_t vocab_size = 0;
  // Stop early (with a smaller vocabulary) when the most frequent pair occurs fewer times.
  std::uint64_t min_pair_count = 2;
};

// Throws TokenizerError on bad options or a text that is not valid UTF-8.
BpeModel train_bpe(std::span<const std::string_view> texts, const TrainerOptions& options);
BpeModel train_bpe(std::string_view corpus, const TrainerOptions& options);

}  // namespace petl::tokenizer

// GPT-2 pre-tokenization: splits text into the pieces the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// would find, without a regex engine: a scanner over code points (classes from unicode_tables.h).
// BPE then runs inside each piece separately.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace petl::tokenizer {

class PreTokenizer {
 public:
  // `base_offset` is added to byte offsets in error messages (text may be a slice of a larger one).
  explicit PreTokenizer(std::string_view text, std::size_t base_offset = 0)
      : text_(text), base_(base_offset) {}

  // Stores the next piece (a view into the text) and returns true; false at the end.
  // Throws TokenizerError naming the byte offset when the text is not valid UTF-8.
  bool next(std::string_view& piece);

 private:
  char32_t decode_at(std::size_t& pos) const;
  std::size_t run_end(std::size_t pos, unicode::CharClass char_class) const;

  std::string_view text_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

// All pieces of `text`, in order; their concatenation is `text`.
std::vector<std::string_view> pretokenize(std::string_view text);

}  // namespace petl::tokenizer

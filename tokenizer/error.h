// The one exception type of the tokenizer. Messages say where (file and line, byte offset or
// token id) and what was expected, e.g. "merges.txt:12: expected two symbols separated by one
// space, got 'abc'".
#pragma once
#include <stdexcept>
#include <string>

namespace petl::tokenizer {

class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace petl::tokenizer

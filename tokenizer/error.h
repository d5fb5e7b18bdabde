// The one exception type of the tokenizer. Messages say where (file and line, byte offset or
// token id) and what was expected, e.g. "merges.txt:12: expected two symbols separated by one
// space, got 'abc'". It is a petl::Error, so callers that catch the project's error catch it too.
#pragma once
#include <string>

#include "tensor/error.h"

namespace petl::tokenizer {

class TokenizerError : public petl::Error {
 public:
  using petl::Error::Error;
};

}  // namespace petl::tokenizer

// libFuzzer target: a whole tokenizer built from fuzzed files, then used. The input is
//   vocab.json bytes \0 merges.txt bytes \0 text
// (missing parts are empty). Building checks the pair's consistency; a tokenizer that builds must
// encode any valid UTF-8 text so that decode(encode(text)) == text, and reject invalid UTF-8 with
// a petl::Error. Anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/error.h"

namespace {
std::string_view next_part(std::string_view& rest) {
  const std::size_t end = rest.find('\0');
  const std::string_view part = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return part;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace petl::tokenizer;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view vocab = next_part(rest), merges = next_part(rest), text = rest;
  std::optional<Tokenizer> tok;
  try {
    tok.emplace(Tokenizer::from_parsed(parse_vocab_json(vocab, "vocab.json"), parse_merges(merges, "merges.txt")));
  } catch (const petl::Error&) {
    return 0;
  }
  for (SpecialTokens special : {SpecialTokens::AsText, SpecialTokens::Allow}) {
    std::vector<TokenId> ids;
    try {
      ids = tok->encode(text, special);
    } catch (const petl::Error&) {
      continue;  // invalid UTF-8
    }
    if (tok->decode(ids) != text) __builtin_trap();
  }
  return 0;
}

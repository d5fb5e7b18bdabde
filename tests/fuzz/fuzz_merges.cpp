// libFuzzer target: the merges reader (GPT-2 vocab.bpe / Hugging Face merges.txt) on arbitrary
// bytes. A petl::Error is the expected answer to bad input; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/error.h"
#include "tokenizer/vocab_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto merges = petl::tokenizer::parse_merges(text, "merges.txt");
    // What it accepted is two non-empty symbols without spaces a rule, each on a real line.
    if (merges.merges.size() != merges.lines.size()) __builtin_trap();
    for (const auto& [left, right] : merges.merges) {
      if (left.empty() || right.empty() || left.find(' ') != left.npos || right.find(' ') != right.npos) {
        __builtin_trap();
      }
    }
  } catch (const petl::Error&) {
  }
  return 0;
}

// libFuzzer target: the vocabulary reader (GPT-2 encoder.json / Hugging Face vocab.json) on
// arbitrary bytes. A petl::Error is the expected answer to bad input; anything else (a crash, a
// sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/error.h"
#include "tokenizer/vocab_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto vocab = petl::tokenizer::parse_vocab_json(text, "vocab.json");
    // What it accepted is well formed: ids 0..N-1 each once, non-empty tokens.
    for (std::size_t id = 0; id < vocab.tokens.size(); ++id) {
      if (vocab.tokens[id].empty() || vocab.offsets[id] >= size) __builtin_trap();
      (void)vocab.where(id);
    }
  } catch (const petl::Error&) {
  }
  return 0;
}

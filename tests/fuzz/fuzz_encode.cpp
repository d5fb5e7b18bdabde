// libFuzzer target: GPT-2's tokenizer on arbitrary bytes. The vocabulary comes from
// $PETL_DATA_DIR/gpt2 (else ../shared/data/gpt2); when that is absent, from a small model trained
// on a fixed text, so the target still runs. Valid UTF-8 must round-trip exactly through encode
// and decode, also with special tokens allowed; invalid UTF-8 must be a petl::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>
#include <string_view>

#include "tokenizer/bpe.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/error.h"

namespace {
std::unique_ptr<petl::tokenizer::Tokenizer> tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace petl::tokenizer;
  const char* env = std::getenv("PETL_DATA_DIR");
  const std::filesystem::path dir = std::filesystem::path(env && *env ? env : "../shared/data") / "gpt2";
  if (std::filesystem::exists(dir / "encoder.json")) {
    tokenizer = std::make_unique<Tokenizer>(Tokenizer::load_openai(dir));
  } else {
    const char* corpus = "The Eagle is a coffee shop near Burger King. It's 3.5 stars; prices: £20-25.\n"
                         "日本語のテキスト, café, naïve, emoji 😀 and <|endoftext|> between documents.";
    tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_model(train_bpe(corpus, TrainerOptions{.vocab_size = 320})));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace petl::tokenizer;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (SpecialTokens special : {SpecialTokens::AsText, SpecialTokens::Allow}) {
    std::vector<TokenId> ids;
    try {
      ids = tokenizer->encode(text, special);
    } catch (const petl::Error&) {
      continue;  // invalid UTF-8
    }
    if (tokenizer->decode(ids) != text) __builtin_trap();
  }
  return 0;
}

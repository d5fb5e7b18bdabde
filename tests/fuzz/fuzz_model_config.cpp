// libFuzzer target: GPT-2's and BART's config.json readers on arbitrary bytes. A petl::Error is
// the expected answer to bad input; anything else (a crash, a sanitizer report, another exception)
// is a finding. An accepted config must validate and survive a round trip through to_json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nn/bart_config.h"
#include "nn/gpt2_config.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const petl::nn::Gpt2Config c = petl::nn::Gpt2Config::from_json_string(text, "config.json");
    const petl::nn::Gpt2Config back = petl::nn::Gpt2Config::from_json_string(c.to_json().dump(), "roundtrip");
    if (back.n_embd != c.n_embd || back.n_head != c.n_head || back.ffn_width() != c.ffn_width()) __builtin_trap();
  } catch (const petl::Error&) {
  }
  try {
    const petl::nn::BartConfig c = petl::nn::BartConfig::from_json_string(text, "config.json");
    const petl::nn::BartConfig back = petl::nn::BartConfig::from_json_string(c.to_json().dump(), "roundtrip");
    if (back.d_model != c.d_model || back.encoder_layers != c.encoder_layers || back.vocab_size != c.vocab_size)
      __builtin_trap();
  } catch (const petl::Error&) {
  }
  return 0;
}

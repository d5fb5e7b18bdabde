// libFuzzer target: the PEFT spec language (peft/spec.h) on arbitrary bytes, as a saved composed
// adapter's petl_adapter.json hands it to load_composed. A petl::Error is the expected answer to bad
// input; an accepted spec must print in canonical form and read back to the same spec, and printing
// that again must give the same string.
#include <cstddef>
#include <cstdint>
#include <string>

#include "peft/spec.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const petl::peft::Spec spec = petl::peft::parse_spec(text);
    const std::string canonical = petl::peft::to_string(spec);
    const petl::peft::Spec back = petl::peft::parse_spec(canonical);
    if (!(back == spec) || petl::peft::to_string(back) != canonical) __builtin_trap();
  } catch (const petl::Error&) {
  }
  return 0;
}

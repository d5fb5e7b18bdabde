// Fuzz target: the JSON readers. Each line as an XSum JSONL record, and the whole input as a DART
// JSON file with its linearization (train/data/xsum.h, train/data/dart.h). Only petl::Error may
// escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tensor/error.h"
#include "train/data/dart.h"
#include "train/data/xsum.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  int64_t line = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    try {
      petl::data::parse_xsum_jsonl_line(text.substr(start, end - start), "fuzz.jsonl", ++line);
    } catch (const petl::Error&) {
    }
    start = end + 1;
  }
  try {
    for (const auto& entry : petl::data::parse_dart(text, "fuzz.json")) petl::data::linearize_dart(entry);
  } catch (const petl::Error&) {
  }
  return 0;
}

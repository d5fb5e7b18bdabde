// libFuzzer target: the safetensors reader on arbitrary bytes. A petl::Error is the expected answer
// to bad input; anything else (a crash, a sanitizer report, another exception) is a finding. What
// the reader accepts must be consistent: the tensors tile the data region, each reads back with the
// shape its header gives (or is an Error for values the engine cannot hold), and writing the
// tensors again gives a file that parses to the same names and shapes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nn/safetensors.h"

using namespace petl;
using namespace petl::nn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    const SafetensorsFile f =
        SafetensorsFile::parse(MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.safetensors"));
    uint64_t covered = 0;
    for (const auto& e : f.entries()) {
      if (e.begin != covered || e.end < e.begin || f.raw(e.name).size() != e.end - e.begin) __builtin_trap();
      covered = e.end;
    }
    TensorMap tensors;
    for (const auto& e : f.entries()) {
      try {
        Tensor t = f.tensor(e.name);
        if (t.shape() != e.shape) __builtin_trap();
        tensors.emplace(e.name, t);
      } catch (const Error&) {  // F8, BOOL bytes other than 0/1, U64 above 2^63
      }
    }
    const SafetensorsFile again =
        SafetensorsFile::parse(MappedFile::from_bytes(serialize_safetensors(tensors, f.metadata()), "again"));
    if (again.entries().size() != tensors.size() || again.metadata() != f.metadata()) __builtin_trap();
    for (const auto& [name, t] : tensors)
      if (again.entry(name).shape != t.shape()) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}

// The safetensors file format (huggingface/safetensors, README "Format"), read and written.
//
//   bytes 0..7      N, the header length, unsigned 64-bit little-endian
//   bytes 8..8+N    the header: a UTF-8 JSON object, starting with '{', possibly padded with
//                   trailing spaces. Each key is a tensor name mapped to
//                     {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//                   and the optional key "__metadata__" maps to a string -> string object.
//   bytes 8+N..     the data region; [begin, end) of each tensor is relative to its start.
//                   Elements are little-endian, row-major.
//
// Reading validates everything the format requires (docs/checkpoints.md lists it): the header
// length fits in the file and below 100 MB, the JSON is valid UTF-8 without duplicate keys, every
// entry has the three fields (others are ignored, as the reference reader does) with a known dtype, a shape of non-negative integers and
// begin <= end, and the tensors tile the data region exactly: sorted by offset, each starts where
// the previous ended, the first at 0, the last at the end of the file (no overlap, no hole), and
// each holds dtype size x element count bytes. Every error is a petl::Error naming the file, the
// tensor and the field, with what was found and what was expected.
//
//   SafetensorsFile f = SafetensorsFile::open("model.safetensors");   // maps and validates
//   Tensor wte = f.tensor("wte.weight");                               // float32, [50257, 768]
//   save_safetensors("out.safetensors", {{"w", w}, {"ids", ids}});     // atomic
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nn/mapped_file.h"
#include "tensor/tensor.h"

namespace petl::nn {

// The element types the format names. Reading converts them to the engine's dtypes: F16, BF16 and
// F32 to float32, F64 to float64, integers and BOOL to int64 (F8 types parse but cannot be read).
enum class StDType { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F8_E5M2, F8_E4M3, F16, BF16, F32, F64 };
const char* st_dtype_name(StDType t);  // "F32", as the header spells it
std::size_t st_dtype_size(StDType t);  // bytes per element

struct SafetensorsEntry {
  std::string name;
  StDType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range within the data region
};

class SafetensorsFile {
 public:
  // Maps the file and validates its header (the data itself is read only when a tensor is asked for).
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates bytes that are already in memory (tests, fuzzing).
  static SafetensorsFile parse(MappedFile bytes);

  const std::string& name() const { return file_.name(); }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every tensor, in the order of its data in the file.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  std::vector<std::string> keys() const;  // sorted
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  // The entry of `key`; a missing key is an error naming the file.
  const SafetensorsEntry& entry(const std::string& key) const;

  // A fresh CPU tensor holding the values of `key`, converted as described at StDType.
  Tensor tensor(const std::string& key) const;
  // The same, then converted to `dtype` (e.g. float32 for an F64 file, or to compute in).
  Tensor tensor(const std::string& key, DType dtype) const;
  // The stored bytes of `key`, unconverted (little-endian, row-major).
  std::span<const uint8_t> raw(const std::string& key) const;

 private:
  MappedFile file_;
  uint64_t data_start_ = 0;  // 8 + N
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Named tensors, sorted by name: what a checkpoint file holds.
using TensorMap = std::map<std::string, Tensor>;

// Every tensor of a file, converted as SafetensorsFile::tensor does. `metadata`, when given,
// receives the "__metadata__" map.
TensorMap load_safetensors(const std::filesystem::path& path, std::map<std::string, std::string>* metadata = nullptr);

// Writes float32, float64 and int64 tensors (from any device, any strides) as F32, F64 and I64,
// in name order, the header padded with spaces to a multiple of 8 bytes as the reference writer
// does (so the data region is 8-byte aligned). The default metadata {"format": "pt"} is what
// transformers expects of a PyTorch checkpoint. Atomic (nn/atomic_file.h).
void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// The bytes save_safetensors would write (for tests and for building files in memory).
std::vector<uint8_t> serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata,
                                           const std::string& name_for_errors = "safetensors");

}  // namespace petl::nn

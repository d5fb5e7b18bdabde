// The weights of a Hugging Face model directory, read and written.
//
//   dir/model.safetensors                       one file holding every tensor, or
//   dir/model.safetensors.index.json            {"metadata": {"total_size": ...},
//                                                "weight_map": {"<key>": "model-00001-of-00002.safetensors", ...}}
//   dir/model-00001-of-00002.safetensors ...    the shards it names
//
// Checkpoint opens (and validates) the files, then reads a tensor only when asked for it, so
// loading a model holds one tensor at a time beside the model's own parameters. When both layouts
// are present the single file wins, as in transformers.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nn/safetensors.h"

namespace petl::nn {

inline constexpr const char* kSafetensorsWeights = "model.safetensors";
inline constexpr const char* kSafetensorsIndex = "model.safetensors.index.json";

class Checkpoint {
 public:
  // model.safetensors, or the shards of model.safetensors.index.json. The index is checked: every
  // shard it names exists (a plain file name in dir) and is a valid safetensors file, every key
  // is in the shard the map names, and every tensor of a shard is listed in the map for that shard.
  static Checkpoint open_dir(const std::filesystem::path& dir);
  // One safetensors file.
  static Checkpoint open_file(const std::filesystem::path& path);
  // Tensors already in memory; `name` stands for the file in messages.
  static Checkpoint from_tensors(TensorMap tensors, std::string name = "<in-memory tensors>");

  // Where the tensors come from (a directory or file), for messages.
  const std::string& name() const { return name_; }
  std::vector<std::string> keys() const;  // sorted
  bool contains(const std::string& key) const;
  Shape shape(const std::string& key) const;
  // The tensor (float32, float64 or int64 on the CPU; see SafetensorsFile::tensor).
  Tensor tensor(const std::string& key) const;
  // The file that holds `key` (the shard for sharded checkpoints), for messages.
  std::string file_of(const std::string& key) const;
  // Every tensor at once.
  TensorMap load_all() const;

 private:
  std::string name_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::size_t> file_of_key_;  // key -> index into files_
  TensorMap memory_;                                // for from_tensors
};

// Writes dir/model.safetensors, or, when max_shard_bytes > 0 and the tensors need more, shards of
// at most that many bytes (a larger tensor gets a shard of its own) named
// model-0000i-of-0000n.safetensors plus model.safetensors.index.json, as transformers'
// save_pretrained does. Every file is written atomically; the index goes last, after its shards.
// Weight files of the other layout (or stale shards) left in dir are removed so that loaders
// cannot pick up old weights. The directory is created when missing.
void save_checkpoint(const std::filesystem::path& dir, const TensorMap& tensors, uint64_t max_shard_bytes = 0,
                     const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace petl::nn

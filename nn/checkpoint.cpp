#include "nn/checkpoint.h"

#include <cstdio>
#include <set>

#include "nn/atomic_file.h"
#include "nn/strict_json.h"

namespace petl::nn {

namespace {

using nlohmann::json;

bool is_plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

}  // namespace

Checkpoint Checkpoint::open_file(const std::filesystem::path& path) {
  Checkpoint c;
  c.name_ = path.string();
  c.files_.push_back(std::make_shared<SafetensorsFile>(SafetensorsFile::open(path)));
  for (const auto& e : c.files_[0]->entries()) c.file_of_key_.emplace(e.name, 0);
  return c;
}

Checkpoint Checkpoint::open_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  PETL_CHECK(std::filesystem::is_directory(dir, ec), "cannot open model directory '", dir.string(),
             "': not a directory");
  if (std::filesystem::exists(dir / kSafetensorsWeights, ec)) {
    Checkpoint c = open_file(dir / kSafetensorsWeights);
    c.name_ = dir.string();
    return c;
  }
  const std::filesystem::path index_path = dir / kSafetensorsIndex;
  PETL_CHECK(std::filesystem::exists(index_path, ec), "no weights in '", dir.string(), "': expected ",
             kSafetensorsWeights, " or ", kSafetensorsIndex);

  const std::string index_name = index_path.string();
  const json index = read_json_file(index_path, 8);
  PETL_CHECK(index.is_object(), index_name, ": expected a JSON object, found ", json_excerpt(index));
  PETL_CHECK(index.contains("weight_map"), index_name, ": missing key 'weight_map'");
  const json& map = index["weight_map"];
  PETL_CHECK(map.is_object(), index_name, ": 'weight_map': expected an object {tensor: shard file}, found ",
             json_excerpt(map));

  Checkpoint c;
  c.name_ = dir.string();
  std::map<std::string, std::size_t> shard_number;  // shard file name -> index into files_
  std::vector<std::string> shard_names;
  for (const auto& [key, shard] : map.items()) {
    PETL_CHECK(shard.is_string(), index_name, ": 'weight_map': key '", key, "': expected a shard file name, found ",
               json_excerpt(shard));
    const std::string file = shard.get<std::string>();
    PETL_CHECK(is_plain_file_name(file), index_name, ": 'weight_map': key '", key,
               "': expected a file name inside the directory, found '", file, "'");
    auto [it, fresh] = shard_number.emplace(file, shard_names.size());
    if (fresh) shard_names.push_back(file);
    c.file_of_key_.emplace(key, it->second);
  }
  for (std::size_t i = 0; i < shard_names.size(); ++i) {
    const std::filesystem::path path = dir / shard_names[i];
    if (!std::filesystem::exists(path, ec)) {
      std::string example;  // one key the map puts in this shard
      for (const auto& [k, shard] : c.file_of_key_)
        if (shard == i) example = k;
      throw Error(detail::concat(index_name, ": 'weight_map' puts '", example, "' in shard '", shard_names[i],
                                 "', which does not exist in '", dir.string(), "'"));
    }
    c.files_.push_back(std::make_shared<SafetensorsFile>(SafetensorsFile::open(path)));
  }
  // Both directions: the map's key is in its shard, and each shard tensor is mapped to that shard.
  for (const auto& [key, i] : c.file_of_key_) {
    PETL_CHECK(c.files_[i]->contains(key), index_name, ": 'weight_map' puts '", key, "' in '", shard_names[i],
               "', but that shard has no such tensor");
  }
  for (std::size_t i = 0; i < c.files_.size(); ++i) {
    for (const auto& e : c.files_[i]->entries()) {
      auto it = c.file_of_key_.find(e.name);
      PETL_CHECK(it != c.file_of_key_.end(), c.files_[i]->name(), ": holds tensor '", e.name, "', which ", index_name,
                 " does not list");
      PETL_CHECK(it->second == i, c.files_[i]->name(), ": holds tensor '", e.name, "', which ", index_name,
                 " puts in '", shard_names[it->second], "'");
    }
  }
  return c;
}

Checkpoint Checkpoint::from_tensors(TensorMap tensors, std::string name) {
  Checkpoint c;
  c.name_ = std::move(name);
  c.memory_ = std::move(tensors);
  return c;
}

std::vector<std::string> Checkpoint::keys() const {
  std::vector<std::string> out;
  if (files_.empty())
    for (const auto& [k, t] : memory_) out.push_back(k);
  else
    for (const auto& [k, i] : file_of_key_) out.push_back(k);
  return out;
}

bool Checkpoint::contains(const std::string& key) const {
  return files_.empty() ? memory_.count(key) != 0 : file_of_key_.count(key) != 0;
}

std::string Checkpoint::file_of(const std::string& key) const {
  auto it = file_of_key_.find(key);
  return it == file_of_key_.end() ? name_ : files_[it->second]->name();
}

Shape Checkpoint::shape(const std::string& key) const {
  if (files_.empty()) {
    auto it = memory_.find(key);
    PETL_CHECK(it != memory_.end(), name_, ": no tensor '", key, "'");
    return it->second.shape();
  }
  auto it = file_of_key_.find(key);
  PETL_CHECK(it != file_of_key_.end(), name_, ": no tensor '", key, "'");
  return files_[it->second]->entry(key).shape;
}

Tensor Checkpoint::tensor(const std::string& key) const {
  if (files_.empty()) {
    auto it = memory_.find(key);
    PETL_CHECK(it != memory_.end(), name_, ": no tensor '", key, "'");
    return it->second;
  }
  auto it = file_of_key_.find(key);
  PETL_CHECK(it != file_of_key_.end(), name_, ": no tensor '", key, "'");
  return files_[it->second]->tensor(key);
}

TensorMap Checkpoint::load_all() const {
  TensorMap out;
  for (const std::string& key : keys()) out.emplace(key, tensor(key));
  return out;
}

// ---- writing

namespace {

uint64_t byte_size(const Tensor& t) { return uint64_t(t.numel()) * dtype_size(t.dtype()); }

std::string shard_name(std::size_t i, std::size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// model-NNNNN-of-NNNNN.safetensors
bool looks_like_shard(const std::string& name) {
  unsigned a = 0, b = 0;
  int end = 0;
  return std::sscanf(name.c_str(), "model-%5u-of-%5u.safetensors%n", &a, &b, &end) == 2 &&
         std::size_t(end) == name.size();
}

void remove_if_present(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  PETL_CHECK(!ec, "cannot remove stale '", path.string(), "': ", ec.message());
}

}  // namespace

void save_checkpoint(const std::filesystem::path& dir, const TensorMap& tensors, uint64_t max_shard_bytes,
                     const std::map<std::string, std::string>& metadata) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  PETL_CHECK(!ec, "cannot create directory '", dir.string(), "': ", ec.message());

  // Greedy grouping in name order, as transformers' shard_checkpoint does in parameter order.
  std::vector<TensorMap> shards(1);
  uint64_t total = 0, current = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t bytes = byte_size(t);
    if (max_shard_bytes > 0 && current > 0 && current + bytes > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().emplace(name, t);
    current += bytes;
    total += bytes;
  }

  std::set<std::string> written;
  if (shards.size() == 1) {
    save_safetensors(dir / kSafetensorsWeights, tensors, metadata);
    written.insert(kSafetensorsWeights);
    remove_if_present(dir / kSafetensorsIndex);
  } else {
    json map = json::object();
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const std::string file = shard_name(i, shards.size());
      save_safetensors(dir / file, shards[i], metadata);
      written.insert(file);
      for (const auto& [name, t] : shards[i]) map[name] = file;
    }
    json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
    write_file_atomic(dir / kSafetensorsIndex, index.dump(2) + "\n");
    written.insert(kSafetensorsIndex);
    remove_if_present(dir / kSafetensorsWeights);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (looks_like_shard(name) && !written.count(name)) remove_if_present(entry.path());
  }
}

}  // namespace petl::nn

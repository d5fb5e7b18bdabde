// Reading a Hugging Face config.json: typed fields with defaults, every failure a petl::Error that
// names the file and the field, what was found and what was expected. Unknown keys are ignored.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace petl::nn {

class ConfigReader {
 public:
  // Parses `path`; a missing file, invalid JSON or a non-object top level is an error.
  static ConfigReader from_file(const std::filesystem::path& path);
  // `source` names the text in messages (a path or "<string>").
  static ConfigReader from_string(const std::string& text, const std::string& source);

  // The field's value, or `fallback` when the key is absent (or null, for the optional forms).
  int64_t integer(const std::string& key, int64_t fallback) const;
  int64_t positive_integer(const std::string& key, int64_t fallback) const;
  std::optional<int64_t> optional_integer(const std::string& key) const;  // absent or null -> none
  double number(const std::string& key, double fallback) const;
  double probability(const std::string& key, double fallback) const;  // in [0, 1)
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  bool has(const std::string& key) const { return json_.contains(key) && !json_[key].is_null(); }

  // An error about `key` that names the file: "<source>: field 'key': <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  const std::string& source() const { return source_; }

 private:
  ConfigReader(nlohmann::json json, std::string source) : json_(std::move(json)), source_(std::move(source)) {}
  const nlohmann::json* find(const std::string& key) const;
  nlohmann::json json_;
  std::string source_;
};

}  // namespace petl::nn

// Parsing the JSON files of a model directory (safetensors headers, model.safetensors.index.json,
// config.json) more strictly than a plain DOM parse: a key repeated within one object is an error
// (a DOM silently keeps the last value), and nesting is bounded so hostile input cannot exhaust the
// stack. Invalid UTF-8 and syntax errors are petl::Errors naming `name` and the byte offset.
#pragma once
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace petl::nn {

nlohmann::json parse_json_strict(std::string_view text, const std::string& name, std::size_t max_depth);

// Reads and parses a whole file; a missing file is an error naming it.
nlohmann::json read_json_file(const std::filesystem::path& path, std::size_t max_depth = 64);

// A value's JSON text for messages, cut to about 80 characters.
std::string json_excerpt(const nlohmann::json& value);

}  // namespace petl::nn

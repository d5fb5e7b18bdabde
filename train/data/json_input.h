// JSON input for the task readers (DART's JSON list, XSum's JSONL lines): parsing with nlohmann
// JSON (RFC 8259) whose errors are turned into petl::Error "<source>:<line>:<column>: ...", and
// typed field access whose errors name the field's path, e.g. "dev.json: [12].annotations[0].text:
// expected a string, found number".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace petl::data {

// Parses one JSON text. `first_line` is the line `text` starts on in its file (JSONL lines).
nlohmann::json parse_json(std::string_view text, const std::string& source, int64_t first_line = 1);

// object[key]; throws naming `path`.key when `value` is not an object or lacks the key.
const nlohmann::json& json_member(const nlohmann::json& value, const char* key, const std::string& path);
// Throws naming `path` unless `value` is a string / an array / a boolean.
const std::string& json_string(const nlohmann::json& value, const std::string& path);
const nlohmann::json& json_array(const nlohmann::json& value, const std::string& path);
bool json_bool(const nlohmann::json& value, const std::string& path);

}  // namespace petl::data

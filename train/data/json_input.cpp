#include "train/data/json_input.h"

#include "tensor/error.h"

namespace petl::data {

nlohmann::json parse_json(std::string_view text, const std::string& source, int64_t first_line) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    // error.byte is 1-based: the byte at which parsing stopped.
    const size_t at = error.byte == 0 ? 0 : std::min<size_t>(error.byte - 1, text.size());
    int64_t line = first_line, column = 1;
    for (size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = error.what();
    const size_t detail_at = what.find("syntax error");
    if (detail_at != std::string::npos) what = what.substr(detail_at);
    throw Error(detail::concat(source, ":", line, ":", column, ": invalid JSON: ", what));
  } catch (const nlohmann::json::exception& error) {
    // Errors without a position, e.g. out_of_range 406 for a number beyond double's range.
    throw Error(detail::concat(source, ":", first_line, ": invalid JSON: ", error.what()));
  }
}

const nlohmann::json& json_member(const nlohmann::json& value, const char* key, const std::string& path) {
  PETL_CHECK(value.is_object(), path, ": expected a JSON object, found ", value.type_name());
  const auto it = value.find(key);
  PETL_CHECK(it != value.end(), path, ": missing field '", key, "'");
  return *it;
}

const std::string& json_string(const nlohmann::json& value, const std::string& path) {
  PETL_CHECK(value.is_string(), path, ": expected a string, found ", value.type_name());
  return value.get_ref<const std::string&>();
}

const nlohmann::json& json_array(const nlohmann::json& value, const std::string& path) {
  PETL_CHECK(value.is_array(), path, ": expected an array, found ", value.type_name());
  return value;
}

bool json_bool(const nlohmann::json& value, const std::string& path) {
  PETL_CHECK(value.is_boolean(), path, ": expected true or false, found ", value.type_name());
  return value.get<bool>();
}

}  // namespace petl::data

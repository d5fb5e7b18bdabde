#include "nn/config_json.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace petl::nn {

ConfigReader ConfigReader::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  PETL_CHECK(in.good(), path.string(), ": cannot open the model configuration (expected a config.json file)");
  std::stringstream text;
  text << in.rdbuf();
  return from_string(text.str(), path.string());
}

ConfigReader ConfigReader::from_string(const std::string& text, const std::string& source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON (" + e.what() + ")");
  }
  PETL_CHECK(json.is_object(), source, ": expected a JSON object at the top level, found ", json.type_name());
  return ConfigReader(std::move(json), source);
}

void ConfigReader::fail(const std::string& key, const std::string& message) const {
  throw Error(source_ + ": field '" + key + "': " + message);
}

const nlohmann::json* ConfigReader::find(const std::string& key) const {
  auto it = json_.find(key);
  return it == json_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> ConfigReader::optional_integer(const std::string& key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return int64_t(d);
  }
  fail(key, "expected an integer, found " + v->dump());
}

int64_t ConfigReader::integer(const std::string& key, int64_t fallback) const {
  return optional_integer(key).value_or(fallback);
}

int64_t ConfigReader::positive_integer(const std::string& key, int64_t fallback) const {
  const int64_t v = integer(key, fallback);
  if (v <= 0) fail(key, "expected a positive integer, found " + std::to_string(v));
  return v;
}

double ConfigReader::number(const std::string& key, double fallback) const {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) fail(key, "expected a number, found " + v->dump());
  const double d = v->get<double>();
  if (!std::isfinite(d)) fail(key, "expected a finite number, found " + v->dump());
  return d;
}

double ConfigReader::probability(const std::string& key, double fallback) const {
  const double p = number(key, fallback);
  if (p < 0.0 || p >= 1.0) fail(key, "expected a probability in [0, 1), found " + std::to_string(p));
  return p;
}

bool ConfigReader::boolean(const std::string& key, bool fallback) const {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "expected true or false, found " + v->dump());
  return v->get<bool>();
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback) const {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(key, "expected a string, found " + v->dump());
  return v->get<std::string>();
}

}  // namespace petl::nn

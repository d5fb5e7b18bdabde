#include "train/tool/settings.h"

#include <cmath>

#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"
#include "train/lib/command_line.h"

namespace petl::tool {
namespace {

using json = nlohmann::json;

std::string valid_names(const std::vector<SettingSpec>& specs) {
  std::string out;
  for (const auto& s : specs) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

// A flag's text as the JSON value its setting expects (the default's kind).
json from_flag(const std::string& command, const SettingSpec& spec, const std::string& text) {
  const json& d = spec.default_value;
  if (d.is_null()) {  // no default: a number or JSON when the text is one, else the text
    try {
      return json::parse(text);
    } catch (const json::exception&) {
      return text;
    }
  }
  if (d.is_string()) {
    if (!text.empty() && (text[0] == '{' || text[0] == '[')) {
      try {
        return json::parse(text);
      } catch (const json::exception&) {
        throw Error(command + ": --" + spec.name + " looks like JSON but does not parse: " + text);
      }
    }
    return text;
  }
  if (d.is_object()) {
    try {
      return json::parse(text);
    } catch (const json::exception&) {
      throw Error(command + ": --" + spec.name + " expects a JSON object, got '" + text + "'");
    }
  }
  if (d.is_number_integer()) {
    try {
      size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw Error(command + ": --" + spec.name + " expects an integer, got '" + text + "'");
  }
  if (d.is_number()) {
    try {
      size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    throw Error(command + ": --" + spec.name + " expects a finite number, got '" + text + "'");
  }
  throw Error(command + ": --" + spec.name + " takes no value");
}

}  // namespace

Settings Settings::parse(const std::string& command, const std::vector<SettingSpec>& specs,
                         std::span<const std::string> args) {
  Settings s;
  s.command_ = command;
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      s.help_ = true;
      return s;
    }
  std::vector<cli::FlagSpec> flag_specs = {{"--config", true}, {"--help", false}};
  for (const auto& spec : specs) flag_specs.push_back({"--" + spec.name, !spec.default_value.is_boolean()});
  const auto flags = cli::parse_flags(command, args, flag_specs);
  std::map<std::string, const SettingSpec*> by_name;
  for (const auto& spec : specs) {
    by_name[spec.name] = &spec;
    if (!spec.default_value.is_null()) s.values_[spec.name] = spec.default_value;
  }
  for (const auto& f : flags)
    if (f.name == "--config") {
      const std::string text = data::read_text_file(f.value);
      const json config = data::parse_json(text, f.value);
      PETL_CHECK(config.is_object(), f.value, ": a config file must hold one JSON object of settings");
      for (const auto& item : config.items()) {
        const auto it = by_name.find(item.key());
        PETL_CHECK(it != by_name.end(), f.value, ": unknown setting '", item.key(), "' for '", command,
                   "' (valid: ", valid_names(specs), ")");
        const json& d = it->second->default_value;
        const json& v = item.value();
        const bool ok = d.is_null() || (d.is_number() && v.is_number()) || d.type() == v.type() ||
                        (d.is_string() && (v.is_object() || v.is_array()));
        PETL_CHECK(ok, f.value, ": setting '", item.key(), "' expects a value like ", d.dump(), ", got ", v.dump());
        s.values_[item.key()] = v;
        s.given_[item.key()] = f.value;
      }
    }
  for (const auto& f : flags) {
    if (f.name == "--config" || f.name == "--help") continue;
    const SettingSpec& spec = *by_name.at(f.name.substr(2));
    s.values_[spec.name] = spec.default_value.is_boolean() ? json(true) : from_flag(command, spec, f.value);
    s.given_[spec.name] = f.name;
  }
  return s;
}

std::string Settings::usage(const std::string& command, const std::string& synopsis,
                            const std::vector<SettingSpec>& specs) {
  std::string out = "usage: train " + command + " [--config FILE] [--name value ...]\n" + synopsis + "\nSettings (flags, or keys of the --config JSON file; flags win):\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.default_value.is_boolean() ? "" : " V");
    if (left.size() < 26) left.resize(26, ' ');
    out += left + " " + s.help;
    if (!s.default_value.is_null() && !s.default_value.is_boolean()) out += " [" + s.default_value.dump() + "]";
    out += "\n";
  }
  return out;
}

bool Settings::has(const std::string& name) const { return values_.count(name) && !values_.at(name).is_null(); }

const json& Settings::value(const std::string& name) const {
  const auto it = values_.find(name);
  PETL_CHECK(it != values_.end() && !it->second.is_null(), command_, ": --", name, " is required");
  return it->second;
}

std::string Settings::text(const std::string& name) const {
  const json& v = value(name);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int64_t Settings::integer(const std::string& name, int64_t min, int64_t max) const {
  const json& v = value(name);
  PETL_CHECK(v.is_number_integer(), command_, ": --", name, " expects an integer, got ", v.dump());
  const int64_t x = v.get<int64_t>();
  PETL_CHECK(x >= min && x <= max, command_, ": --", name, " expects an integer in [", min, ", ", max, "], got ", x);
  return x;
}

double Settings::number(const std::string& name, double min, double max) const {
  const json& v = value(name);
  PETL_CHECK(v.is_number(), command_, ": --", name, " expects a number, got ", v.dump());
  const double x = v.get<double>();
  PETL_CHECK(std::isfinite(x) && x >= min && x <= max, command_, ": --", name, " expects a number in [", min, ", ", max,
             "], got ", x);
  return x;
}

bool Settings::flag(const std::string& name) const {
  const auto it = values_.find(name);
  return it != values_.end() && it->second.is_boolean() && it->second.get<bool>();
}

json Settings::object(const std::string& name) const {
  if (!has(name)) return json::object();
  const json& v = value(name);
  PETL_CHECK(v.is_object(), command_, ": --", name, " expects a JSON object, got ", v.dump());
  return v;
}

json Settings::to_json() const {
  json out = json::object();
  for (const auto& [name, v] : values_)
    if (!v.is_null()) out[name] = v;
  return out;
}

}  // namespace petl::tool

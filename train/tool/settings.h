// The settings of one `train` subcommand: every setting has a name, a default and a help line;
// values come from the defaults, then from a JSON config file (--config FILE: an object whose keys
// are setting names without the dashes), then from flags (--name value or --name=value), each
// later source overriding the earlier. An unknown flag or config key is an error listing the valid
// ones; a value of the wrong kind is an error naming the setting and its source.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace petl::tool {

struct SettingSpec {
  std::string name;           // without dashes: "lr"
  nlohmann::json default_value;  // null: no default (optional setting); a bool: a switch
  std::string help;
};

class Settings {
 public:
  // Returns settings with help_requested() set when --help was given (nothing else is checked then).
  static Settings parse(const std::string& command, const std::vector<SettingSpec>& specs,
                        std::span<const std::string> args);
  bool help_requested() const { return help_; }
  // Usage text: the command line, then one line per setting with its default.
  static std::string usage(const std::string& command, const std::string& synopsis, const std::vector<SettingSpec>& specs);

  bool has(const std::string& name) const;  // a value (default or given) exists
  bool given(const std::string& name) const { return given_.count(name) > 0; }  // set by file or flag
  std::string text(const std::string& name) const;
  int64_t integer(const std::string& name, int64_t min, int64_t max) const;
  double number(const std::string& name, double min, double max) const;
  bool flag(const std::string& name) const;
  nlohmann::json object(const std::string& name) const;  // a JSON object (a flag's value is parsed as JSON)
  // Every setting with a value, as the config file that reproduces this run.
  nlohmann::json to_json() const;
  void set(const std::string& name, nlohmann::json value) { values_[name] = std::move(value); }

 private:
  const nlohmann::json& value(const std::string& name) const;
  std::string command_;
  std::map<std::string, nlohmann::json> values_;
  std::map<std::string, std::string> given_;  // name -> where it came from ("--lr", "config.json")
  bool help_ = false;
};

}  // namespace petl::tool

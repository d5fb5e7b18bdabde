#include "train/lib/command_line.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "tensor/error.h"

namespace petl::cli {

namespace {

std::string known_flags(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const auto& s : specs) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

[[noreturn]] void fail_value(std::string_view program, const Flag& flag, const std::string& expected) {
  throw Error(std::string(program) + ": " + flag.name + " expects " + expected + ", got '" + flag.value + "'");
}

}  // namespace

std::vector<Flag> parse_flags(std::string_view program, std::span<const std::string> args,
                              const std::vector<FlagSpec>& specs) {
  const std::string prog(program);
  std::vector<Flag> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) {
      throw Error(prog + ": unexpected argument '" + arg + "': flags start with -- (known: " + known_flags(specs) +
                  ")");
    }
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) throw Error(prog + ": unknown flag '" + name + "' (known: " + known_flags(specs) + ")");
    if (!spec->takes_value) {
      if (eq != std::string::npos) throw Error(prog + ": " + name + " takes no value, got '" + arg + "'");
      flags.push_back({name, ""});
      continue;
    }
    if (eq != std::string::npos) {
      flags.push_back({name, arg.substr(eq + 1)});
    } else {
      if (i + 1 >= args.size()) throw Error(prog + ": " + name + " needs a value");
      flags.push_back({name, args[++i]});
    }
  }
  return flags;
}

std::vector<Flag> parse_flags(std::string_view program, int argc, char** argv, const std::vector<FlagSpec>& specs) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return parse_flags(program, args, specs);
}

std::int64_t parse_integer(std::string_view program, const Flag& flag, std::int64_t min, std::int64_t max) {
  const std::string& s = flag.value;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s[0] == '+' || ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
    fail_value(program, flag, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

std::uint64_t parse_unsigned(std::string_view program, const Flag& flag) {
  const std::string& s = flag.value;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    fail_value(program, flag, "an integer in [0, " + std::to_string(std::numeric_limits<std::uint64_t>::max()) + "]");
  }
  return v;
}

double parse_positive(std::string_view program, const Flag& flag) {
  const std::string& s = flag.value;
  double v = 0;
  // from_chars reads "inf" and "nan" too, and reports 1e999 as out of range: all rejected below.
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || !(v > 0)) {
    fail_value(program, flag, "a finite number > 0");
  }
  return v;
}

std::string parse_choice(std::string_view program, const Flag& flag, const std::vector<std::string>& valid) {
  std::string valid_list;
  for (const auto& v : valid) {
    if (v == flag.value) return v;
    valid_list += (valid_list.empty() ? "" : ", ") + v;
  }
  fail_value(program, flag, "one of " + valid_list);
}

std::vector<std::string> parse_name_list(std::string_view program, const Flag& flag,
                                         const std::vector<std::string>& valid) {
  std::string valid_list;
  for (const auto& v : valid) valid_list += (valid_list.empty() ? "" : ", ") + v;
  std::vector<std::string> names;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = flag.value.find(',', start);
    const std::string name = flag.value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) fail_value(program, flag, "a comma-separated list of names without empty ones (" + valid_list + ")");
    bool known = false;
    for (const auto& v : valid) known = known || v == name;
    if (!known) {
      throw Error(std::string(program) + ": " + flag.name + ": unknown name '" + name + "' (valid: " + valid_list + ")");
    }
    names.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

}  // namespace petl::cli

// Command-line flags for petl's executables (train, petl_bench): "--name value" or "--name=value"
// for flags that take a value, "--name" alone for switches. Every mistake is a petl::Error that
// starts with the program's name and names the flag and what was expected:
//   "train: unknown flag '--step' (known: --steps, --seed, --lr, --help)"
//   "train: --steps needs a value"           (only a flag that takes one, given none)
//   "train: --steps expects an integer in [1, 9223372036854775807], got '99999999999999999999999'"
//   "train: --lr expects a finite number > 0, got 'inf'"
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace petl::cli {

struct FlagSpec {
  std::string name;  // with the dashes: "--steps"
  bool takes_value;
};

struct Flag {
  std::string name;   // as in its FlagSpec
  std::string value;  // "" for a switch
};

// The flags in order of appearance. A positional argument, an unknown flag, a missing value or a
// value given to a switch is an error.
std::vector<Flag> parse_flags(std::string_view program, std::span<const std::string> args,
                              const std::vector<FlagSpec>& specs);
std::vector<Flag> parse_flags(std::string_view program, int argc, char** argv, const std::vector<FlagSpec>& specs);

// A decimal integer in [min, max]; anything else (sign where none is allowed, junk, overflow) is
// an error naming the flag and the range.
std::int64_t parse_integer(std::string_view program, const Flag& flag, std::int64_t min, std::int64_t max);
std::uint64_t parse_unsigned(std::string_view program, const Flag& flag);
// A finite number > 0 (rejects 0, negatives, inf, nan and values that overflow a double like 1e999).
double parse_positive(std::string_view program, const Flag& flag);
// One of `valid`, else an error listing them.
std::string parse_choice(std::string_view program, const Flag& flag, const std::vector<std::string>& valid);
// A comma-separated list of names, each one of `valid`; an empty list or name is an error, and an
// unknown name is an error listing the valid ones.
std::vector<std::string> parse_name_list(std::string_view program, const Flag& flag,
                                         const std::vector<std::string>& valid);

}  // namespace petl::cli

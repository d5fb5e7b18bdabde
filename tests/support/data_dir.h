// Where the tests find the real data (../shared/data, see its SOURCES.md): the directory named by
// the environment variable PETL_DATA_DIR, else ../shared/data relative to the project root (tests
// run from the root). Tests that need a file call PETL_SKIP when data_file() returns "".
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/skip.h"

namespace petl::testing {

inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("PETL_DATA_DIR"); env != nullptr && *env != '\0') return env;
  return shared_data("");
}

// Path of `relative` under the data directory, or "" when it does not exist.
inline std::string data_file(const std::string& relative) {
  const std::filesystem::path path = data_dir() / relative;
  std::error_code error;
  return std::filesystem::exists(path, error) ? path.string() : std::string();
}

}  // namespace petl::testing

// Visible skips. A test that cannot run here (no GPU, shared data absent) calls
// PETL_SKIP("why") and returns; the marker makes ctest count it as skipped, not passed.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace petl::testing {

inline void print_skip(const std::string& why) {
  std::printf("[petl-skip] %s\n", why.c_str());
  std::fflush(stdout);
}

// Path of a file in the shared data directory: $PETL_DATA_DIR when set, else ../shared/data
// relative to the project root (tests run from the root).
inline std::filesystem::path shared_data(const std::string& relative) {
  if (const char* dir = std::getenv("PETL_DATA_DIR"); dir && *dir) return std::filesystem::path(dir) / relative;
  return std::filesystem::path("..") / "shared" / "data" / relative;
}

}  // namespace petl::testing

#define PETL_SKIP(why)                      \
  do {                                      \
    ::petl::testing::print_skip(why);       \
    return;                                 \
  } while (0)

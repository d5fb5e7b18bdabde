// petl_bench: the project's benchmark suite. Every entry prints its own figures next to a baseline
// measured in the same run, so ratios are honest on whatever machine runs it.
//   petl_bench [--only a,b] [--device cpu|cuda] [--quick] [--list]
#include <cstdio>
#include <cstring>
#include <string>

#include <omp.h>

#include "bench/registry.h"
#include "tensor/error.h"
#include "train/lib/command_line.h"

namespace petl::bench {
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
}  // namespace petl::bench

static void usage() {
  std::printf("usage: petl_bench [--only NAME[,NAME...]] [--device cpu|cuda] [--quick] [--list]   (or --flag=value)\n");
}

int main(int argc, char** argv) {
  using namespace petl::bench;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      usage();
      return 0;
    }
  }
  Options opts;
  std::vector<std::string> names;
  for (const auto& e : registry()) names.push_back(e.name);
  std::vector<std::string> only;
  try {
    const auto flags = petl::cli::parse_flags(
        "petl_bench", argc, argv, {{"--only", true}, {"--device", true}, {"--quick", false}, {"--list", false}});
    for (const auto& flag : flags) {
      if (flag.name == "--only") {
        for (auto& name : petl::cli::parse_name_list("petl_bench", flag, names)) only.push_back(std::move(name));
      } else if (flag.name == "--device") {
        opts.device = petl::cli::parse_choice("petl_bench", flag, {"cpu", "cuda"});
      } else if (flag.name == "--quick") {
        opts.quick = true;
      } else if (flag.name == "--list") {
        for (const auto& name : names) std::printf("%s\n", name.c_str());
        return 0;
      }
    }
  } catch (const petl::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  std::printf("petl_bench: %d CPU threads (OpenMP), device %s%s\n", omp_get_max_threads(),
              opts.device.c_str(), opts.quick ? ", quick sizes" : "");
  for (const auto& e : registry()) {
    bool wanted = only.empty();
    for (const auto& n : only) wanted = wanted || n == e.name;
    if (!wanted) continue;
    std::printf("\n== %s ==\n", e.name.c_str());
    std::fflush(stdout);
    e.run(opts);
  }
  return 0;
}

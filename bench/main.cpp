// petl_bench: the project's benchmark suite. Every entry prints its own figures next to a baseline
// measured in the same run, so ratios are honest on whatever machine runs it.
//   petl_bench [--only a,b] [--device cpu|cuda] [--quick] [--list]
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include <omp.h>

#include "bench/registry.h"

namespace petl::bench {
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
}  // namespace petl::bench

static void usage() {
  std::printf("usage: petl_bench [--only NAME[,NAME...]] [--device cpu|cuda] [--quick] [--list]\n");
}

int main(int argc, char** argv) {
  using namespace petl::bench;
  Options opts;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--only" && i + 1 < argc) {
      std::stringstream ss(argv[++i]);
      for (std::string name; std::getline(ss, name, ',');) only.push_back(name);
    } else if (arg == "--device" && i + 1 < argc) {
      opts.device = argv[++i];
      if (opts.device != "cpu" && opts.device != "cuda") {
        std::fprintf(stderr, "petl_bench: --device must be cpu or cuda, got '%s'\n", opts.device.c_str());
        return 2;
      }
    } else if (arg == "--quick") {
      opts.quick = true;
    } else if (arg == "--list") {
      for (const auto& e : registry()) std::printf("%s\n", e.name.c_str());
      return 0;
    } else {
      usage();
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  std::printf("petl_bench: %d CPU threads (OpenMP), device %s%s\n", omp_get_max_threads(),
              opts.device.c_str(), opts.quick ? ", quick sizes" : "");
  int ran = 0;
  for (const auto& e : registry()) {
    bool wanted = only.empty();
    for (const auto& n : only) wanted = wanted || n == e.name;
    if (!wanted) continue;
    std::printf("\n== %s ==\n", e.name.c_str());
    std::fflush(stdout);
    e.run(opts);
    ++ran;
  }
  if (ran == 0) {
    std::fprintf(stderr, "petl_bench: no benchmark matched; --list shows the names\n");
    return 2;
  }
  return 0;
}

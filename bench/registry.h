// A tiny registry so each benchmark lives in its own file: PETL_BENCH("name") { ... }.
// `petl_bench` runs every entry, or only those named with --only NAME[,NAME...].
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace petl::bench {

struct Options {
  std::string device = "cpu";   // --device cpu|cuda
  bool quick = false;           // --quick: smaller problem sizes (used by CI smoke runs)
};

struct Entry {
  std::string name;
  std::function<void(const Options&)> run;
};

std::vector<Entry>& registry();

struct Registrar {
  Registrar(std::string name, std::function<void(const Options&)> run) {
    registry().push_back({std::move(name), std::move(run)});
  }
};

}  // namespace petl::bench

#define PETL_BENCH_CONCAT2(a, b) a##b
#define PETL_BENCH_CONCAT(a, b) PETL_BENCH_CONCAT2(a, b)
#define PETL_BENCH(NAME)                                                                   \
  static void PETL_BENCH_CONCAT(petl_bench_fn_, __LINE__)(const ::petl::bench::Options&);  \
  static ::petl::bench::Registrar PETL_BENCH_CONCAT(petl_bench_reg_, __LINE__)(            \
      NAME, PETL_BENCH_CONCAT(petl_bench_fn_, __LINE__));                                  \
  static void PETL_BENCH_CONCAT(petl_bench_fn_, __LINE__)([[maybe_unused]] const ::petl::bench::Options& opts)

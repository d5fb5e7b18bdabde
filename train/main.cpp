// train: petl's training executable. With no arguments it runs its embedded default job, which
// needs no data files (see train/lib/demo_task.h).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <omp.h>

#include "tensor/error.h"
#include "train/lib/demo_task.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: train [--steps N] [--seed S] [--lr LR]\n"
               "  Trains a one-block causal transformer on generated sequences x[t+1] = (x[t] + k) mod 16\n"
               "  and prints the loss as it falls. Defaults: --steps 300 --seed 0 --lr 0.003\n");
}

int64_t parse_int(const std::string& flag, const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (!*text || *end || v < 0) throw petl::Error("train: " + flag + " expects a non-negative integer, got '" + text + "'");
  return v;
}

double parse_double(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (!*text || *end || !(v > 0)) throw petl::Error("train: " + flag + " expects a positive number, got '" + text + "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    petl::train::DemoConfig cfg;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        usage(stdout);
        return 0;
      }
      if (i + 1 >= argc) throw petl::Error("train: " + arg + " needs a value (see --help)");
      if (arg == "--steps") cfg.steps = parse_int(arg, argv[++i]);
      else if (arg == "--seed") cfg.seed = uint64_t(parse_int(arg, argv[++i]));
      else if (arg == "--lr") cfg.lr = parse_double(arg, argv[++i]);
      else throw petl::Error("train: unknown option '" + arg + "' (see --help)");
    }
    std::printf("train: embedded demo, one-block causal transformer (dim %lld, %lld heads), vocab %lld, "
                "batch %lld x %lld tokens, %lld steps, AdamW lr %g, seed %llu, %d threads\n",
                (long long)cfg.dim, (long long)cfg.heads, (long long)cfg.vocab, (long long)cfg.batch,
                (long long)cfg.seq_len, (long long)cfg.steps, cfg.lr, (unsigned long long)cfg.seed,
                omp_get_max_threads());
    const auto result = petl::train::run_demo(cfg, 25, [](int64_t step, double loss) {
      std::printf("step %4lld  loss %.4f\n", (long long)step, loss);
      std::fflush(stdout);
    });
    std::printf("loss fell from %.4f to %.4f (chance level ln 16 = %.4f) in %.2f s (%.1f ms/step)\n",
                result.first_loss, result.last_loss, std::log(16.0), result.seconds,
                1e3 * result.seconds / double(std::max<int64_t>(cfg.steps, 1)));
    return 0;
  } catch (const petl::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}

// train: petl's training executable. With no arguments it runs its embedded default job, which
// needs no data files (see train/lib/demo_task.h).
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <omp.h>

#include "tensor/error.h"
#include "train/lib/command_line.h"
#include "train/lib/demo_task.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: train [--steps N] [--seed S] [--lr LR]   (or --flag=value)\n"
               "  Trains a one-block causal transformer on generated sequences x[t+1] = (x[t] + k) mod 16\n"
               "  and prints the loss as it falls. Defaults: --steps 300 --seed 0 --lr 0.003\n"
               "  A run whose loss becomes inf or NaN stops with an error (exit status 2).\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    for (int i = 1; i < argc; ++i) {
      if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
        usage(stdout);
        return 0;
      }
    }
    petl::train::DemoConfig cfg;
    const auto flags = petl::cli::parse_flags("train", argc, argv,
                                              {{"--steps", true}, {"--seed", true}, {"--lr", true}, {"--help", false}});
    for (const auto& flag : flags) {
      if (flag.name == "--steps") cfg.steps = petl::cli::parse_integer("train", flag, 1, INT64_MAX);
      else if (flag.name == "--seed") cfg.seed = petl::cli::parse_unsigned("train", flag);
      else if (flag.name == "--lr") cfg.lr = petl::cli::parse_positive("train", flag);
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

// GPT-2 at the 124M shape (random weights): a training step (forward, loss, backward, AdamW) at
// B=4,T=64 and B=8,T=256 for full fine-tuning and each method of peft/ (bench/gpt2_train_step.h),
// and greedy decoding with the KV cache. tools/oracle/bench_torch.py prints the same lines for
// transformers' GPT2LMHeadModel (+ peft) and torch.optim.AdamW, so the two can be run one after the
// other on the same machine.
//
// Peak RSS is the process's high-water mark (VmHWM), reset before each configuration by writing 5
// to /proc/self/clear_refs. The reset brings the mark down to the current RSS, which still holds
// what the caching allocator kept from the previous configuration; for a clean per-configuration
// figure run one configuration per process (petl_bench --only gpt2_train_b4_t64, ...).
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "bench/gpt2_train_step.h"
#include "bench/measure.h"
#include "bench/registry.h"
#include "nn/generate.h"
#include "nn/gpt2.h"

namespace {

using Clock = std::chrono::steady_clock;
using petl::bench::median;
using petl::bench::peak_rss_mb;
using petl::bench::reset_peak_rss;

// Greedy decoding through nn::generate (KV cache): a B-row prompt of P tokens, N new tokens each
// (EOS banned so every run is N tokens long). Reports generated tokens per second.
double decode_row(int64_t B, int64_t P, int64_t N, int repeats, bool quick) {
  reset_peak_rss();
  petl::nn::Gpt2LMHead model(petl::bench::gpt2_bench_config(quick), /*init_seed=*/1234);
  model.train(false);
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < B * P; ++i) prompt.push_back((i * 7919) % model.config().vocab_size);
  const petl::Tensor ids = petl::from_vector(prompt, {B, P});
  const petl::Tensor mask = petl::ones({B, P}, petl::DType::I64);
  petl::nn::GenerationConfig greedy;
  greedy.max_new_tokens = N;
  greedy.min_new_tokens = N;
  std::vector<double> seconds;
  for (int r = 0; r < repeats + 1; ++r) {
    const auto start = Clock::now();
    const petl::Tensor out = petl::nn::generate(model, ids, mask, greedy);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    PETL_CHECK(out.size(1) == P + N, "gpt2 decode: expected ", P + N, " columns, got ", out.size(1));
    if (r > 0) seconds.push_back(s);
  }
  const double s = median(seconds);
  std::printf("gpt2%s decode B=%lld prompt=%lld new=%lld KV-cache greedy threads=%d  median %.1f ms/token  "
              "%.1f tokens/s  peak RSS %.0f MB  (%d runs)\n",
              quick ? "-quick" : "", (long long)B, (long long)P, (long long)N, omp_get_max_threads(),
              s * 1e3 / double(N), double(B * N) / s, peak_rss_mb(), repeats);
  std::fflush(stdout);
  return s;
}

// Runs `row` (returning seconds) at 1 and then 2 OpenMP threads (the GEMM kernel follows the same
// setting) and prints the scaling: issue 11 §5 asks that nothing gets slower with more threads.
void at_1_and_2_threads(const std::string& what, const std::function<double()>& row) {
  const int max_threads = omp_get_max_threads();
  std::vector<double> seconds;
  for (int threads : {1, 2}) {
    if (threads > max_threads) break;
    omp_set_num_threads(threads);
    seconds.push_back(row());
  }
  omp_set_num_threads(max_threads);
  if (seconds.size() == 2)
    std::printf("%s thread scaling: 2 threads %.2fx the speed of 1%s\n", what.c_str(), seconds[0] / seconds[1],
                seconds[1] > seconds[0] ? "  (SLOWER with more threads)" : "");
  std::fflush(stdout);
}

// Full fine-tuning (gpt2_train_b4_t64, gpt2_train_b8_t256) and one entry per method
// (gpt2_train_b4_t64_lora, ...): see bench/gpt2_train_step.h.
void train_entry(const petl::bench::Options& opts, const std::string& method, int64_t B, int64_t T, int steps,
                 int quick_steps) {
  if (opts.device != "cpu") {
    std::printf("gpt2 train %s: CPU only for now (run with --device cpu)\n", method.c_str());
    return;
  }
  at_1_and_2_threads("gpt2 train " + method, [&] {
    return petl::bench::train_step_row(method, B, T, opts.quick ? quick_steps : steps, opts.quick).ms_per_step / 1e3;
  });
}

const bool registered_methods = [] {
  for (const std::string& method : petl::bench::train_methods()) {
    const std::string suffix = method == "full" ? "" : "_" + method;
    petl::bench::registry().push_back({"gpt2_train_b4_t64" + suffix, [method](const petl::bench::Options& o) {
                                         train_entry(o, method, 4, 64, 3, 2);
                                       }});
    petl::bench::registry().push_back({"gpt2_train_b8_t256" + suffix, [method](const petl::bench::Options& o) {
                                         train_entry(o, method, 8, 256, 2, 1);
                                       }});
  }
  // every method next to full fine-tuning, in one process (the comparison table of issue 10 §7)
  petl::bench::registry().push_back({"gpt2_train_b4_t64_all", [](const petl::bench::Options& o) {
                                       if (o.device == "cpu") petl::bench::train_step_table(4, 64, o.quick ? 2 : 3, o.quick);
                                     }});
  petl::bench::registry().push_back({"gpt2_train_b8_t256_all", [](const petl::bench::Options& o) {
                                       if (o.device == "cpu") petl::bench::train_step_table(8, 256, o.quick ? 1 : 2, o.quick);
                                     }});
  return true;
}();

}  // namespace

PETL_BENCH("gpt2_decode") {
  if (opts.device != "cpu") {
    std::printf("gpt2_decode: CPU only for now (run with --device cpu)\n");
    return;
  }
  at_1_and_2_threads("gpt2 decode", [&] { return decode_row(1, 16, opts.quick ? 16 : 64, opts.quick ? 1 : 3, opts.quick); });
}

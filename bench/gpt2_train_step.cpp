// Per-method GPT-2 training-step benchmark (see gpt2_train_step.h).
//
// FLOPs of a step: the GEMMs it ran (kernel_counters(), counted by kernel::matmul) plus, when
// attention runs fused (no attention dropout), the fused kernel's products, which no counter sees:
// per layer, head, batch row and visible (query, key) pair, 4·d_h forward (q·k, p·v) and 8·d_h
// backward (dv, dp, dq, dk), the masked half skipped. In training mode with GPT-2's attn_pdrop 0.1
// attention is explicit GEMMs (nn/attention.cpp), counted like the rest.
// The arithmetic floor is those FLOPs at the GEMM rate this process measures on the step's widest
// GEMM ([B·T, d] @ [d, 4d]); "% of floor" = floor time / step time.
//
// "CPU s" is the process's CPU time per step (std::clock, all threads): on a machine shared with
// other jobs it tells the work done apart from the time spent descheduled; with one thread it is
// free of spin-waiting too (OMP_NUM_THREADS=1).
//
// Peak RSS is VmHWM after resetting it (/proc/self/clear_refs); for a clean per-method figure run
// one entry per process (petl_bench --only gpt2_train_b4_t64_lora).
#include "bench/gpt2_train_step.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <omp.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <functional>
#include <memory>

#include "autograd/graph.h"
#include "bench/measure.h"
#include "autograd/ops.h"
#include "nn/adamw.h"
#include "nn/gpt2.h"
#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/compose.h"
#include "peft/finetune.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/mam.h"
#include "peft/parallel_adapter.h"
#include "peft/prefix_tuning.h"
#include "peft/presets.h"
#include "peft/prompt_tuning.h"
#include "tensor/allocator.h"
#include "tensor/kernels.h"

namespace petl::bench {

namespace {

using Clock = std::chrono::steady_clock;

// A method attached to the model: what trains, and how a batch becomes (logits, loss).
struct Attached {
  std::shared_ptr<nn::Module> method;  // owns the method's parameters (none for full / bitfit)
  std::vector<Tensor> params;          // what AdamW updates
  int64_t prefix_keys = 0;             // extra key rows per attention (prefix tuning)
  int64_t prompt_tokens = 0;           // extra input rows (prompt tuning)
  std::function<Tensor(const Tensor&)> positions;  // position ids for [B, T] ids, or none
  std::function<Tensor(const Tensor&)> labels;     // the labels for ids
};

// The methods built from a preset of peft/presets.cpp (the papers' hyperparameters) by peft::compose.
const std::vector<std::pair<std::string, std::string>>& preset_methods() {
  static const std::vector<std::pair<std::string, std::string>> methods = {
      {"ft_top2", "ft-top-2"},       {"prefix_mlp", "prefix"},      {"pfeiffer", "pfeiffer"},
      {"plain_pa", "parallel"},      {"par_bn", "par-bn"},          {"mh_pa", "multihead-parallel"},
      {"lora_paper", "lora"},
  };
  return methods;
}

std::string preset_of(const std::string& method) {
  for (const auto& [name, preset] : preset_methods())
    if (name == method) return preset;
  return "";
}

Attached attach(const std::string& method, nn::Gpt2LMHead& model, Generator& init) {
  const nn::Gpt2Config& c = model.config();
  nn::SiteMap sites = model.sites();
  Attached a;
  a.labels = [](const Tensor& ids) { return ids; };
  auto collect = [&](const std::shared_ptr<nn::Module>& m) {
    a.method = m;
    a.params = m->trainable_parameters();
    for (const Tensor& p : model.trainable_parameters()) a.params.push_back(p);  // e.g. Houlsby's LayerNorms
  };
  if (method == "full") {
    peft::apply_full_finetune(model);
    a.params = model.trainable_parameters();
  } else if (method == "bitfit") {
    peft::apply_bitfit(model);
    a.params = model.trainable_parameters();
  } else if (method == "lora") {  // peft LoraConfig(r=8, lora_alpha=8, target_modules=["c_attn"])
    peft::LoraOptions o;
    o.r = 8;
    o.alpha = 8.0;
    collect(std::make_shared<peft::Lora>(model, sites, std::vector<std::string>{"c_attn"}, o, init));
  } else if (method == "ia3") {  // peft's GPT-2 defaults: c_attn and mlp.c_proj, the latter feedforward
    collect(std::make_shared<peft::Ia3>(model, sites, std::vector<std::string>{"c_attn", "mlp.c_proj"},
                                        std::vector<std::string>{"mlp.c_proj"}));
  } else if (method == "prefix") {  // peft PrefixTuningConfig(num_virtual_tokens=10): a flat table
    auto prefix = std::make_shared<peft::PrefixTuning>(c.n_layer, c.n_head, c.n_embd,
                                                       peft::PrefixTuningOptions{10, false, 512}, init);
    prefix->attach(sites, model);
    collect(prefix);
    a.prefix_keys = prefix->length;
    a.positions = [prefix](const Tensor& ids) { return prefix->positions(ids.size(0), ids.size(1)); };
  } else if (method == "prompt") {  // peft PromptTuningConfig(num_virtual_tokens=10)
    auto prompt = std::make_shared<peft::PromptTuning>(10, c.n_embd, init);
    prompt->attach(sites, model);
    collect(prompt);
    a.prompt_tokens = prompt->length;
    a.labels = [prompt](const Tensor& ids) { return prompt->extend_labels(ids); };
  } else if (method == "houlsby") {
    auto adapters = std::make_shared<peft::BottleneckAdapters>(c.n_embd, peft::houlsby(64), 1);
    adapters->attach(sites, model);
    collect(adapters);
  } else if (method == "parallel") {
    auto adapters = std::make_shared<peft::ParallelAdapters>(c.n_embd, peft::scaled_parallel_adapter(512, 4.0), 1);
    adapters->attach(sites, model);
    collect(adapters);
  } else if (method == "mam") {
    auto mam = std::make_shared<peft::Mam>(c.n_layer, c.n_head, c.n_embd, peft::MamOptions{}, 1);
    mam->attach(sites, model);
    collect(mam);
    a.prefix_keys = mam->prefix->length;
    a.positions = [mam](const Tensor& ids) { return mam->prefix->positions(ids.size(0), ids.size(1)); };
  } else if (const std::string preset = preset_of(method); !preset.empty()) {
    auto composed = peft::compose(peft::preset_spec(preset), model, 1);
    a.method = composed;
    a.params = composed->all_trainable_parameters();
    if (composed->prefix) {
      a.prefix_keys = composed->prefix->length;
      a.positions = [composed](const Tensor& ids) { return composed->position_ids(ids.size(0), ids.size(1)); };
    }
  } else {
    throw Error(detail::concat("gpt2 train bench: unknown method '", method, "'"));
  }
  return a;
}

// GFLOP/s of kernel::matmul on [M, K] @ [K, N], median of 3 after one warm-up.
double gemm_gflops(int64_t M, int64_t K, int64_t N) {
  Generator gen(3);
  const Tensor a = randn({M, K}, DType::F32, Device::cpu(), gen), b = randn({K, N}, DType::F32, Device::cpu(), gen);
  std::vector<double> seconds;
  for (int r = 0; r < 4; ++r) {
    const auto start = Clock::now();
    const Tensor c = kernel::matmul(a, b);
    if (r > 0) seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return 2.0 * double(M) * double(K) * double(N) / median(seconds) * 1e-9;
}

}  // namespace

const std::vector<std::string>& train_methods() {
  static const std::vector<std::string> methods = [] {
    std::vector<std::string> m = {"full", "lora", "prefix", "prompt", "ia3", "bitfit", "houlsby", "parallel", "mam"};
    for (const auto& entry : preset_methods()) m.push_back(entry.first);
    return m;
  }();
  return methods;
}

StepResult train_step_row(const std::string& method, int64_t B, int64_t T, int timed_steps, bool quick) {
  // What an earlier configuration of this process left cached goes back to the system first, so
  // the high-water mark measured from here is this configuration's (plus the process's baseline).
  allocator_for(Device::cpu()).empty_cache();
#if defined(__GLIBC__)
  malloc_trim(0);  // and what the C library kept of it (freed heap pages) too
#endif
  allocator_for(Device::cpu()).reset_peak();  // the "tensors" figure, likewise this configuration's
  reset_peak_rss();
  nn::Gpt2LMHead model(gpt2_bench_config(quick), /*init_seed=*/1234);
  model.train(true);
  Generator init(99);
  const Attached a = attach(method, model, init);
  nn::AdamW opt(a.params, {.lr = 1e-4, .weight_decay = 0.01});
  const nn::Gpt2Config& c = model.config();
  uint64_t counter = 0;
  std::vector<double> seconds, cpu_seconds;
  double gemm_flops = 0.0;
  int64_t system_allocs = 0;  // allocator requests that reached malloc in the last step
  for (int step = 0; step < timed_steps + 1; ++step) {  // step 0 warms up (allocator, threads)
    std::vector<int64_t> tokens;  // random ids, new ones every step
    for (int64_t i = 0; i < B * T; ++i) tokens.push_back(int64_t(random_bits(7, counter++) % uint64_t(c.vocab_size)));
    const Tensor batch = from_vector(tokens, {B, T});
    const double flops_before = kernel_counters().matmul_flops;
    const int64_t allocs_before = allocator_for(Device::cpu()).stats().system_allocs;
    const auto start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    opt.zero_grad();
    const Tensor positions = a.positions ? a.positions(batch) : Tensor();
    const Tensor loss = model.loss(model.forward(batch, Tensor(), positions), a.labels(batch));
    backward(loss);
    opt.step();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    cpu_seconds.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    gemm_flops = kernel_counters().matmul_flops - flops_before;
    system_allocs = allocator_for(Device::cpu()).stats().system_allocs - allocs_before;
  }
  seconds.erase(seconds.begin());
  cpu_seconds.erase(cpu_seconds.begin());
  const double rss = peak_rss_mb();
  const MemoryStats mem = allocator_for(Device::cpu()).stats();
  // With attention dropout on (training, attn_pdrop > 0) attention runs as explicit GEMMs, which
  // the counter sees. Otherwise the fused kernel does the products over the visible (query, key)
  // pairs: query i of T sees the P prefix keys and keys 0..i (prompt tokens count as tokens).
  double attention_flops = 0.0;
  if (c.attn_pdrop == 0.0) {
    const double Tq = double(T + a.prompt_tokens), P = double(a.prefix_keys);
    const double pairs = Tq * P + Tq * (Tq + 1) / 2;
    attention_flops = 12.0 * double(c.n_embd / c.n_head) * pairs * double(c.n_head) * double(B) * double(c.n_layer);
  }
  const double flops = gemm_flops + attention_flops;
  const double s = median(seconds);
  const double rate = gemm_gflops(B * T, c.n_embd, 4 * c.n_embd);
  const double achieved = flops / s * 1e-9;
  std::printf("gpt2%s train B=%lld T=%lld %-8s threads=%d  median %.1f ms/step (CPU %.1f s)  %.1f tokens/s  peak RSS %.0f MB (tensors %.0f MB, cached %.0f MB)  "
              "%.1f GFLOP/step  %.1f GFLOP/s  %.0f%% of floor at GEMM %.1f GFLOP/s  %lld mallocs/step  (%d steps, %zu tensors train)\n",
              quick ? "-quick" : "", (long long)B, (long long)T, method.c_str(), omp_get_max_threads(), s * 1e3,
              median(cpu_seconds),
              double(B * T) / s, rss,
              double(mem.peak_bytes_in_use) / (1 << 20), double(mem.bytes_cached) / (1 << 20),
              flops * 1e-9, achieved, 100.0 * achieved / rate, rate, (long long)system_allocs, timed_steps, a.params.size());
  std::fflush(stdout);
  return {s * 1e3, rss};
}

void train_step_table(int64_t B, int64_t T, int timed_steps, bool quick) {
  std::vector<std::pair<std::string, StepResult>> rows;
  for (const std::string& method : train_methods()) rows.emplace_back(method, train_step_row(method, B, T, timed_steps, quick));
  const StepResult& full = rows.front().second;  // train_methods() starts with "full"
  std::printf("gpt2%s train B=%lld T=%lld, every method in this process, against full fine-tuning:\n",
              quick ? "-quick" : "", (long long)B, (long long)T);
  std::printf("  %-11s %12s %9s %14s %9s\n", "method", "ms/step", "x full", "peak RSS MB", "x full");
  for (const auto& [method, r] : rows)
    std::printf("  %-11s %12.1f %9.2f %14.0f %9.2f\n", method.c_str(), r.ms_per_step, r.ms_per_step / full.ms_per_step,
                r.peak_rss_mb, r.peak_rss_mb / full.peak_rss_mb);
  std::fflush(stdout);
}

}  // namespace petl::bench

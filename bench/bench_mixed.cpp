// Mixed-task batches (peft/mixed_batch.h) at the GPT-2 124M shape (random weights, B=8, T=64):
// the cost of serving four users in one batch against serving them one batch per task.
//
//   base            the plain model, no router
//   one task        router attached, every row on the same LoRA task (the router's direct path)
//   mixed           forward: rows 0-1 LoRA, 2-3 prefix (P=10), 4-5 Houlsby adapter (m=64), 6-7 none;
//                   forward + backward: 3 LoRA, 3 prefix, 2 adapter rows, the summed per-task losses
//   per task        the same rows as one batch per task, one after the other
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "autograd/graph.h"
#include "bench/measure.h"
#include "bench/registry.h"
#include "nn/gpt2.h"
#include "peft/bottleneck_adapter.h"
#include "peft/lora.h"
#include "peft/mixed_batch.h"
#include "peft/prefix_tuning.h"

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(const std::function<void()>& run, int repeats) {
  run();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return petl::bench::median(ms);
}

// ids [n, T] of the listed rows of a [B, T] token list.
petl::Tensor take_rows(const std::vector<int64_t>& tokens, int64_t T, const std::vector<int64_t>& rows) {
  std::vector<int64_t> out;
  for (int64_t r : rows) out.insert(out.end(), tokens.begin() + r * T, tokens.begin() + (r + 1) * T);
  return petl::from_vector(out, {int64_t(rows.size()), T});
}

}  // namespace

PETL_BENCH("gpt2_mixed_batch") {
  using namespace petl;
  const int64_t B = 8, T = 64;
  const int repeats = opts.quick ? 3 : 5;
  nn::Gpt2LMHead model(bench::gpt2_bench_config(opts.quick), /*init_seed=*/1234);
  model.train(false);
  const nn::Gpt2Config& cfg = model.config();
  std::vector<int64_t> tokens;
  uint64_t counter = 0;
  for (int64_t i = 0; i < B * T; ++i) tokens.push_back(int64_t(random_bits(9, counter++) % uint64_t(cfg.vocab_size)));
  const Tensor ids = from_vector(tokens, {B, T});

  nn::SiteMap sites = model.sites();
  Generator gen(5);
  auto base_forward = [&] {
    NoGradGuard no_grad;
    model.forward(ids);
  };
  const double base_ms = median_ms(base_forward, repeats);

  peft::MixedBatch mixed(sites);
  const int64_t lora_task = mixed.add_task("lora");
  peft::LoraOptions lo;
  peft::Lora lora(model, mixed.task_sites(lora_task), {"c_attn"}, lo, gen);
  const int64_t prefix_task = mixed.add_task("prefix");
  peft::PrefixTuning prefix(cfg.n_layer, cfg.n_head, cfg.n_embd, peft::PrefixTuningOptions{10, true, 512}, gen);
  prefix.attach(mixed.task_sites(prefix_task), model);
  const int64_t adapter_task = mixed.add_task("adapter");
  peft::BottleneckOptions ao = peft::houlsby(64);
  ao.train_layer_norms = false;
  peft::BottleneckAdapters adapters(cfg.n_embd, ao, 6);
  adapters.attach(mixed.task_sites(adapter_task), model);

  // Serving: two rows per task and two base-model rows. Training: every row trains (3 LoRA, 3
  // prefix, 2 adapter), so both ways compute the same 8 rows.
  const std::vector<int64_t> serve = {lora_task, lora_task, prefix_task, prefix_task, adapter_task, adapter_task, -1, -1};
  const std::vector<int64_t> train = {lora_task, prefix_task, adapter_task, lora_task, prefix_task, adapter_task,
                                      lora_task, prefix_task};
  auto rows_of = [&](const std::vector<int64_t>& tasks, int64_t t) {
    std::vector<int64_t> rows;
    for (int64_t b = 0; b < B; ++b)
      if (tasks[size_t(b)] == t) rows.push_back(b);
    return rows;
  };
  auto mixed_forward = [&](bool grad) {
    const std::vector<int64_t>& tasks = grad ? train : serve;
    mixed.set_row_tasks(tasks);
    if (!grad) {
      NoGradGuard no_grad;
      model.forward(ids);
      return;
    }
    const Tensor logits = model.forward(ids);
    Tensor loss;  // the sum of each task's loss on its rows
    for (int64_t t : {lora_task, prefix_task, adapter_task}) {
      const Tensor l = model.loss(peft::MixedBatch::gather_rows(logits, mixed.rows_of(t)), take_rows(tokens, T, rows_of(tasks, t)));
      loss = loss.defined() ? loss + l : l;
    }
    backward(loss);
  };
  auto per_task = [&](bool grad) {
    const std::vector<int64_t>& tasks = grad ? train : serve;
    for (int64_t t : {lora_task, prefix_task, adapter_task, int64_t(-1)}) {
      const std::vector<int64_t> rows = rows_of(tasks, t);
      if (rows.empty()) continue;
      const Tensor batch = take_rows(tokens, T, rows);
      mixed.set_row_tasks(std::vector<int64_t>(rows.size(), t));
      if (!grad) {
        NoGradGuard no_grad;
        model.forward(batch);
        continue;
      }
      backward(model.loss(model.forward(batch), batch));
    }
  };
  const double one_task_ms = median_ms(
      [&] {
        mixed.set_row_tasks(std::vector<int64_t>(size_t(B), lora_task));
        NoGradGuard no_grad;
        model.forward(ids);
      },
      repeats);
  const double mixed_ms = median_ms([&] { mixed_forward(false); }, repeats);
  const double per_task_ms = median_ms([&] { per_task(false); }, repeats);
  const double mixed_train_ms = median_ms([&] { mixed_forward(true); }, repeats);
  const double per_task_train_ms = median_ms([&] { per_task(true); }, repeats);
  std::printf("gpt2%s mixed batch B=%lld T=%lld forward: base %.1f ms, one task (LoRA) %.1f ms, mixed 4 tasks %.1f ms, "
              "per-task batches %.1f ms\n",
              opts.quick ? "-quick" : "", (long long)B, (long long)T, base_ms, one_task_ms, mixed_ms, per_task_ms);
  std::printf("gpt2%s mixed batch B=%lld T=%lld forward+backward: mixed 4 tasks %.1f ms, per-task batches %.1f ms "
              "(median of %d)\n",
              opts.quick ? "-quick" : "", (long long)B, (long long)T, mixed_train_ms, per_task_train_ms, repeats);
}

// Mixed-task batches (peft/mixed_batch.h) at the GPT-2 124M shape (random weights, B=8, T=64):
// the cost of serving four users in one batch against serving them one batch per task.
//
//   base            the plain model, no router
//   one task        router attached, every row on the same LoRA task (the router's direct path)
//   mixed           rows 0-1 LoRA, 2-3 prefix (P=10), 4-5 Houlsby adapter (m=64), 6-7 none
//   per task        the same four pairs of rows as four batches of 2, one after the other
//
// Forward only (inference, no graph) and forward + backward of the summed per-task losses.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "autograd/graph.h"
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
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

petl::nn::Gpt2Config mixed_config(bool quick) {
  petl::nn::Gpt2Config c;  // 124M: 12 layers, 12 heads, d=768, V=50257
  if (quick) {
    c.vocab_size = 4096;
    c.bos_token_id = c.eos_token_id = 4095;
    c.n_layer = 2;
    c.n_embd = 128;
    c.n_head = 4;
  }
  return c;
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
  nn::Gpt2LMHead model(mixed_config(opts.quick), /*init_seed=*/1234);
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

  const std::vector<int64_t> tasks = {lora_task, lora_task, prefix_task, prefix_task, adapter_task, adapter_task, -1, -1};
  auto mixed_forward = [&](bool grad) {
    mixed.set_row_tasks(tasks);
    if (!grad) {
      NoGradGuard no_grad;
      model.forward(ids);
      return;
    }
    const Tensor logits = model.forward(ids);
    Tensor loss;
    for (int64_t t : {lora_task, prefix_task, adapter_task}) {
      std::vector<int64_t> rows;
      for (int64_t b = 0; b < B; ++b)
        if (tasks[size_t(b)] == t) rows.push_back(b);
      const Tensor l = model.loss(peft::MixedBatch::gather_rows(logits, mixed.rows_of(t)), take_rows(tokens, T, rows));
      loss = loss.defined() ? loss + l : l;
    }
    backward(loss);
  };
  auto per_task = [&](bool grad) {
    for (int64_t first = 0; first < B; first += 2) {
      const Tensor pair = take_rows(tokens, T, {first, first + 1});
      mixed.set_row_tasks({tasks[size_t(first)], tasks[size_t(first)]});
      if (!grad) {
        NoGradGuard no_grad;
        model.forward(pair);
        continue;
      }
      if (tasks[size_t(first)] < 0) continue;  // the base model's rows have nothing to train
      backward(model.loss(model.forward(pair), pair));
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

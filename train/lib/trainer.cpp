#include "train/lib/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/adamw.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "train/lib/grad_clip.h"
#include "train/lib/lr_schedule.h"
#include "train/lib/progress.h"
#include "train/lib/run_log.h"
#include "train/lib/svg_plot.h"

namespace petl::train {

void write_plots(const std::filesystem::path& run_dir, const std::vector<nlohmann::json>& records) {
  PlotSeries loss{"train loss", {}};
  std::map<std::string, PlotSeries> metrics;
  for (const auto& r : records) {
    const double step = double(r["step"].get<int64_t>());
    if (r.contains("loss")) loss.points.emplace_back(step, r["loss"].get<double>());
    if (r.contains("eval"))
      for (const auto& item : r["eval"].items())
        if (item.value().is_number()) {
          auto& series = metrics[item.key()];
          series.name = item.key();
          series.points.emplace_back(step, item.value().get<double>());
        }
  }
  write_line_plot(run_dir / "loss.svg", "training loss", "optimizer step", "loss", {loss});
  std::vector<PlotSeries> dev;
  for (auto& [name, series] : metrics) dev.push_back(series);
  if (!dev.empty()) write_line_plot(run_dir / "dev.svg", "dev metrics", "optimizer step", "value", dev);
}

LoopResult run_training(const LoopOptions& o, const NamedTensors& params, const std::vector<Example>& examples,
                        const LossFn& loss_fn, const EvalFn& evaluate, const std::filesystem::path& run_dir,
                        bool resume, const nlohmann::json& config) {
  PETL_CHECK(!examples.empty(), "train: no training examples");
  PETL_CHECK(!params.empty(), "train: nothing to train (no trainable parameters)");
  PETL_CHECK(o.total_steps >= 1 && o.batch_size >= 1 && o.grad_accum >= 1 && o.save_every >= 1,
             "train: steps, batch size, gradient accumulation and save interval must be >= 1");
  std::filesystem::create_directories(run_dir);
  const auto checkpoint = run_dir / "checkpoint.safetensors";
  const auto best_file = run_dir / "best.safetensors";

  std::vector<Tensor> tensors;
  for (const auto& entry : params) tensors.push_back(entry.second);
  nn::AdamWOptions adam;
  adam.lr = o.lr;
  adam.weight_decay = o.weight_decay;
  nn::AdamW optimizer(tensors, adam);

  LoopCounters c;
  if (resume) {
    PETL_CHECK(std::filesystem::exists(checkpoint), "train --resume: ", checkpoint.string(),
               " does not exist (nothing to resume)");
    c = load_train_state(checkpoint, params, optimizer, config);
    // A run killed while writing a file (SIGKILL, power loss) leaves the atomic writer's temporary
    // ".<name>.tmp-XXXXXX" behind (nn/atomic_file.h); the finished files are intact, the temporary is
    // garbage. Only the run's own directory is swept, only names of that pattern.
    for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos)
        std::filesystem::remove(entry.path());
    }
  } else {
    PETL_CHECK(!std::filesystem::exists(checkpoint), "train: ", run_dir.string(),
               " already holds a run (checkpoint.safetensors); pass --resume to continue it or choose another --out");
  }
  RunLog log(run_dir / "log.jsonl", resume ? c.step : -1);
  LoopResult result;
  result.has_best = std::filesystem::exists(best_file) && c.best_metric.has_value();

  std::vector<std::vector<int64_t>> batches = epoch_batches(examples, o.batch_size, o.pool_batches, o.seed, c.epoch);
  Progress progress(o.total_steps, c.step, o.print_every);
  const auto run_start = std::chrono::steady_clock::now();
  while (c.step < o.total_steps) {
    const auto step_start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    double loss_sum = 0;
    int64_t tokens = 0;
    for (int64_t j = 0; j < o.grad_accum; ++j) {
      if (c.next_batch >= int64_t(batches.size())) {
        ++c.epoch;
        c.next_batch = 0;
        batches = epoch_batches(examples, o.batch_size, o.pool_batches, o.seed, c.epoch);
      }
      const Batch batch = make_batch(examples, batches[size_t(c.next_batch++)], o.pad_id);
      const uint64_t micro = uint64_t(c.step * o.grad_accum + j);
      const Tensor loss = loss_fn(batch, mix64(o.seed ^ mix64(micro + 0x243F6A8885A308D3ull)));
      const double value = loss.item();
      PETL_CHECK(std::isfinite(value), "train: the loss became ", value, " at step ", c.step + 1, " (lr ", o.lr,
                 "): training diverged; try a smaller --lr");
      backward(loss / double(o.grad_accum));
      loss_sum += value;
      tokens += batch.tokens;
    }
    const double grad_norm = clip_grad_norm(tensors, o.max_grad_norm);
    const double lr = linear_warmup_decay(o.lr, c.step, o.warmup_steps, o.total_steps);
    optimizer.set_lr(lr);
    optimizer.step();
    ++c.step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
    result.last_loss = loss_sum / double(o.grad_accum);
    const double tokens_per_s = double(tokens) / std::max(seconds, 1e-9);
    log.write({{"step", c.step},
               {"loss", result.last_loss},
               {"lr", lr},
               {"grad_norm", grad_norm},
               {"tokens", tokens},
               {"tokens_per_s", tokens_per_s},
               {"elapsed_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count()}});
    progress.update(c.step, result.last_loss, tokens_per_s);

    const bool last = c.step == o.total_steps;
    bool evaluated = false;
    if (evaluate && ((o.eval_every > 0 && c.step % o.eval_every == 0) || last)) {
      progress.interrupt();
      const auto metrics = evaluate(c.step);
      const auto it = metrics.find(o.metric);
      PETL_CHECK(it != metrics.end(), "train: the evaluation gives no metric '", o.metric, "'");
      nlohmann::json record = {{"step", c.step}, {"eval", metrics}};
      log.write(record);
      std::printf("eval at step %lld:", (long long)c.step);
      for (const auto& [name, value] : metrics) std::printf("  %s %.4f", name.c_str(), value);
      std::printf("\n");
      std::fflush(stdout);
      const double value = it->second;
      const bool better = !c.best_metric || (o.higher_is_better ? value > *c.best_metric : value < *c.best_metric);
      if (better) {
        c.best_metric = value;
        c.best_step = c.step;
        c.evals_without_improvement = 0;
        save_parameters(best_file, params, {{"step", std::to_string(c.step)}, {"metric", o.metric}});
        result.has_best = true;
      } else {
        ++c.evals_without_improvement;
      }
      evaluated = true;
      write_plots(run_dir, log.records());
    }
    const bool stop = o.patience > 0 && c.evals_without_improvement >= o.patience;
    if (evaluated || last || stop || c.step % o.save_every == 0)
      save_train_state(checkpoint, params, optimizer, c, config);
    if (stop) {
      progress.interrupt();
      std::printf("early stop at step %lld: %s has not improved for %lld evaluations (best %.4f at step %lld)\n",
                  (long long)c.step, o.metric.c_str(), (long long)c.evals_without_improvement, *c.best_metric,
                  (long long)c.best_step);
      result.stopped_early = true;
      break;
    }
  }
  progress.interrupt();
  write_plots(run_dir, log.records());
  result.steps = c.step;
  result.best_metric = c.best_metric;
  result.best_step = c.best_step;
  return result;
}

}  // namespace petl::train

// The training loop every `train` subcommand uses (docs/train.md):
//
//   for each optimizer step s = 1 .. total:
//     for j in 1 .. grad_accum:  batch = next batch (length-bucketed, dynamically padded; batching.h)
//                                L_j = loss(batch) / grad_accum;  backward(L_j)   (gradients add up)
//     n = clip_grad_norm(params, max_grad_norm);  lr = linear_warmup_decay(peak, s - 1, warmup, total)
//     AdamW step (only trainable parameters: frozen ones hold no state);  log.jsonl gets the step
//     every eval_every steps: evaluate, log, keep the best parameters (best.safetensors), stop early
//       after `patience` evaluations without improvement
//     every save_every steps (and after every evaluation, and at the end): checkpoint.safetensors
//
// Dropout seeds are mix(seed, micro-batch number), the data order a function of (seed, epoch), so a
// run resumed from its checkpoint replays the uninterrupted run bit for bit.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/lib/batching.h"
#include "train/lib/train_state.h"

namespace petl::train {

struct LoopOptions {
  int64_t total_steps = 100;   // optimizer steps
  int64_t batch_size = 8;      // examples per micro-batch
  int64_t grad_accum = 1;      // micro-batches per optimizer step
  int64_t pool_batches = 50;   // length bucketing: batches sorted together
  double lr = 1e-4;
  int64_t warmup_steps = 0;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;  // <= 0: no clipping
  uint64_t seed = 0;
  int64_t eval_every = 0;      // 0: evaluate only at the end (when an evaluator is given)
  int64_t save_every = 100;
  int64_t patience = 0;        // 0: no early stopping
  std::string metric = "dev_loss";
  bool higher_is_better = false;
  int64_t pad_id = 0;
  int64_t print_every = 10;    // plain progress lines when stdout is not a terminal
};

// loss(batch, dropout_seed): the mean loss of the batch as a scalar tensor with a graph.
using LossFn = std::function<Tensor(const Batch&, uint64_t dropout_seed)>;
// The dev metrics after `step` (must contain options.metric).
using EvalFn = std::function<std::map<std::string, double>(int64_t step)>;

struct LoopResult {
  int64_t steps = 0;
  double last_loss = 0;
  std::optional<double> best_metric;
  int64_t best_step = 0;
  bool stopped_early = false;
  bool has_best = false;  // best.safetensors exists in the run directory
};

// Trains `params` (the trainable tensors, with stable names) in `run_dir` (log.jsonl,
// checkpoint.safetensors, best.safetensors, loss.svg, dev.svg). With `resume`, continues from
// run_dir/checkpoint.safetensors after checking `config` against it; without, a run directory that
// already holds a checkpoint is an error (nothing is overwritten).
LoopResult run_training(const LoopOptions& options, const NamedTensors& params, const std::vector<Example>& examples,
                        const LossFn& loss, const EvalFn& evaluate, const std::filesystem::path& run_dir,
                        bool resume, const nlohmann::json& config);

// loss.svg and dev.svg from the records of a log.
void write_plots(const std::filesystem::path& run_dir, const std::vector<nlohmann::json>& records);

}  // namespace petl::train

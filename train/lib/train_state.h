// The checkpoint a run resumes from: one safetensors file written atomically (temp + fsync +
// rename, nn/atomic_file.h), so a kill or a full disk while saving leaves the previous one intact.
//
//   param.<name>     every trainable parameter (frozen ones come back from the base model)
//   adam_m.<name>    AdamW's first moment of that parameter
//   adam_v.<name>    its second moment
//   __metadata__     {"petl_train_state": {"step", "adam_steps", "epoch", "next_batch", "best_metric",
//                     "best_step", "evals_without_improvement"}, "petl_train_config": <config JSON>}
//
// Dropout masks and data order are functions of (seed, step), so the counters restore them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/adamw.h"
#include "tensor/tensor.h"

namespace petl::train {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct LoopCounters {
  int64_t step = 0;          // optimizer steps taken
  int64_t epoch = 0;         // the epoch the next batch comes from
  int64_t next_batch = 0;    // its index in that epoch's batch order
  std::optional<double> best_metric;
  int64_t best_step = 0;
  int64_t evals_without_improvement = 0;
};

void save_train_state(const std::filesystem::path& path, const NamedTensors& params, const nn::AdamW& optimizer,
                      const LoopCounters& counters, const nlohmann::json& config);

// Restores parameters (copied into the given tensors) and the optimizer; returns the counters.
// `config` is compared with the saved one first: every key whose value differs is listed in one
// petl::Error ("--lr: the checkpoint has 0.0001, this run 0.0002"), as is a parameter the file lacks
// or holds with another shape.
LoopCounters load_train_state(const std::filesystem::path& path, const NamedTensors& params, nn::AdamW& optimizer,
                              const nlohmann::json& config);

// Only the parameters (the best checkpoint): param.<name> tensors, metadata {"step", "metric"}.
void save_parameters(const std::filesystem::path& path, const NamedTensors& params,
                     const std::map<std::string, std::string>& metadata);
void load_parameters(const std::filesystem::path& path, const NamedTensors& params);

}  // namespace petl::train

// A run's log.jsonl: one JSON object per line, flushed as it is written, so a run killed at any
// moment leaves every finished line on disk.
//   {"step": 12, "loss": 3.21, "lr": 1e-4, "grad_norm": 0.8, "tokens": 1024, "tokens_per_s": 850.2, "elapsed_s": 14.1}
//   {"step": 50, "eval": {"dev_loss": 2.9, "bleu": 41.2}}
// Resuming from a checkpoint taken after step s first rewrites the file (atomically) without the
// lines of later steps, which the resumed run writes again; a torn last line (a kill in the middle
// of a write) is dropped the same way.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

namespace petl::train {

class RunLog {
 public:
  // keep_through_step < 0: a fresh log (any old file replaced); else a resumed one.
  RunLog(std::filesystem::path path, int64_t keep_through_step);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  void write(const nlohmann::json& record);
  // Every record written so far (the kept ones of a resumed log included), for the plots.
  const std::vector<nlohmann::json>& records() const { return records_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<nlohmann::json> records_;
};

}  // namespace petl::train

// What a user watches while a run trains: on a terminal, one line redrawn in place
//   step  120/500 [=========>..............]  loss 2.314  1830 tok/s  ETA 3m12s
// and, when the output is not a terminal (a log file, a pipe), a plain line every `every` steps.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace petl::train {

class Progress {
 public:
  Progress(int64_t total_steps, int64_t first_step, int64_t every);
  void update(int64_t step, double loss, double tokens_per_s);
  // Ends the redrawn line (before other output, and at the end).
  void interrupt();

 private:
  int64_t total_, first_, every_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

// "3m12s", "1h05m", "42s".
std::string format_duration(double seconds);

}  // namespace petl::train

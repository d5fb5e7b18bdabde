#include "train/lib/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace petl::train {

std::string format_duration(double seconds) {
  const int64_t s = int64_t(std::max(0.0, seconds) + 0.5);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
  else if (s >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else std::snprintf(text, sizeof text, "%llds", (long long)s);
  return text;
}

Progress::Progress(int64_t total_steps, int64_t first_step, int64_t every)
    : total_(total_steps), first_(first_step), every_(std::max<int64_t>(1, every)),
      terminal_(isatty(fileno(stderr)) != 0), start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t step, double loss, double tokens_per_s) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = step - first_;
  const double eta = done > 0 ? elapsed / double(done) * double(total_ - step) : 0.0;
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = int(double(kWidth) * double(step) / double(std::max<int64_t>(1, total_)));
    std::string bar(size_t(kWidth), '.');
    for (int i = 0; i < filled && i < kWidth; ++i) bar[size_t(i)] = '=';
    if (filled < kWidth) bar[size_t(filled)] = '>';
    std::fprintf(stderr, "\rstep %5lld/%lld [%s]  loss %.4f  %.0f tok/s  ETA %s   ", (long long)step,
                 (long long)total_, bar.c_str(), loss, tokens_per_s, format_duration(eta).c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else if (step % every_ == 0 || step == total_) {
    std::printf("step %lld/%lld  loss %.4f  %.0f tok/s  ETA %s\n", (long long)step, (long long)total_, loss,
                tokens_per_s, format_duration(eta).c_str());
    std::fflush(stdout);
  }
}

void Progress::interrupt() {
  if (terminal_ && drawn_) {
    std::fprintf(stderr, "\n");
    drawn_ = false;
  }
}

}  // namespace petl::train

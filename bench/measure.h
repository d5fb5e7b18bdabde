// What the benchmarks share: the median of timed samples, the process's peak RSS, and the GPT-2
// shape they run (the 124M one, or the CI smoke size under --quick).
#pragma once
#include <vector>

#include "nn/gpt2.h"

namespace petl::bench {

// The median of `samples` (the mean of the middle two when their number is even); needs one at least.
double median(std::vector<double> samples);

// Peak RSS is the kernel's high-water mark VmHWM (/proc/self/status); writing "5" to
// /proc/self/clear_refs brings it down to the current RSS. peak_rss_mb() is -1 where there is no
// /proc (the figure is then reported as unknown, the benchmark still runs).
void reset_peak_rss();
double peak_rss_mb();

// GPT-2 124M (transformers' defaults: 12 layers, 12 heads, d = 768, V = 50257, 1024 positions), or
// with `quick` 2 layers, 4 heads, d = 128, V = 4096.
nn::Gpt2Config gpt2_bench_config(bool quick);

}  // namespace petl::bench

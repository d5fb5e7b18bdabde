#include "bench/measure.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "tensor/error.h"

namespace petl::bench {

double median(std::vector<double> samples) {
  PETL_CHECK(!samples.empty(), "bench: the median of no samples");
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return -1.0;
}

nn::Gpt2Config gpt2_bench_config(bool quick) {
  nn::Gpt2Config c;
  if (quick) {
    c.vocab_size = 4096;
    c.bos_token_id = c.eos_token_id = 4095;
    c.n_layer = 2;
    c.n_embd = 128;
    c.n_head = 4;
  }
  return c;
}

}  // namespace petl::bench

// One GPT-2 training step (forward, loss, backward, AdamW) per fine-tuning method, timed at a given
// batch shape: the per-method entries of petl_bench (bench/bench_gpt2.cpp). tools/oracle/bench_torch.py
// prints the same lines for transformers + peft.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace petl::bench {

// "full" (every parameter), "lora" (r = 8 on c_attn), "prefix" (10 virtual tokens, peft's flat
// table), "prompt" (10 virtual tokens), "ia3" (peft's GPT-2 defaults), "bitfit", "houlsby"
// (bottleneck 64), "parallel" (FFN, r = 512, s = 4), "mam" (prefix 30/800 + parallel adapter); then
// the papers' presets (peft/presets.cpp) built by peft::compose: "ft_top2" (ft-top-2), "prefix_mlp"
// (prefix: P = 5, MLP 512), "pfeiffer", "plain_pa" (parallel: r = 512, s = 1), "par_bn" (par-bn),
// "mh_pa" (multihead-parallel), "lora_paper" (lora: r = 4 on q, v, dropout 0.1).
const std::vector<std::string>& train_methods();

struct StepResult {
  double ms_per_step = 0.0;  // median
  double peak_rss_mb = 0.0;  // VmHWM during this configuration (-1 where unknown)
};

// Builds the 124M model (or the CI smoke shape when quick), attaches `method`, runs one warm-up and
// `timed_steps` timed steps and prints one line: median ms/step, tokens/s, peak RSS, GFLOP/s and
// the share of the arithmetic floor at this process's measured GEMM rate, at the current OpenMP
// thread count (printed as threads=N).
StepResult train_step_row(const std::string& method, int64_t B, int64_t T, int timed_steps, bool quick);

// Every method of train_methods() in turn in this process (full fine-tuning first), each row as
// train_step_row prints it, then a table of step time and peak RSS with their ratios to full
// fine-tuning's (issue 10 §7: "next to full fine-tuning in the same run").
void train_step_table(int64_t B, int64_t T, int timed_steps, bool quick);

}  // namespace petl::bench

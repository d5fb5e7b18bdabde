// The learning-rate schedule of the papers' recipes (transformers' get_linear_schedule_with_warmup):
// linear warmup from 0 to the peak over `warmup` optimizer steps, then linear decay to 0 at `total`:
//
//   lr(s) = peak · s / warmup                          for s < warmup
//   lr(s) = peak · max(0, (total - s) / (total - warmup))  otherwise
//
// s counts optimizer steps already taken (0 for the first update), as torch's LambdaLR does.
#pragma once
#include <cstdint>

namespace petl::train {

double linear_warmup_decay(double peak, int64_t step, int64_t warmup, int64_t total);

}  // namespace petl::train

#include "train/lib/lr_schedule.h"

#include <algorithm>

namespace petl::train {

double linear_warmup_decay(double peak, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return peak * double(step) / double(std::max<int64_t>(1, warmup));
  return peak * std::max(0.0, double(total - step) / double(std::max<int64_t>(1, total - warmup)));
}

}  // namespace petl::train

#include "train/lib/grad_clip.h"

#include <cmath>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "tensor/kernels.h"

namespace petl::train {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  double squares = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (g.defined()) squares += sum(g * g).item();
  }
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    for (const Tensor& p : params) {
      const Tensor g = p.grad();
      if (g.defined()) kernel::copy_(g, g * factor);  // in place: the accumulated gradient AdamW reads
    }
  }
  return norm;
}

}  // namespace petl::train

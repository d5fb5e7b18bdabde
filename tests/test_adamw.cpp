// AdamW against its update rule (Loshchilov & Hutter 2019, Algorithm 2, as torch.optim.AdamW
// applies it), computed here element by element in double, independently of the tensor ops
// nn/adamw.cpp uses.
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "nn/adamw.h"
#include "support/tensor_helpers.h"

using namespace petl;

TEST_CASE("adamw: three steps follow the update rule, with and without weight decay") {
  for (double wd : {0.0, 0.1}) {
    for (DType dt : {DType::F64, DType::F32}) {
      CAPTURE(wd);
      CAPTURE(dtype_name(dt));
      Generator gen(7);
      Tensor p = randn({3, 4}, dt, Device::cpu(), gen).set_requires_grad(true);
      std::vector<double> want = p.to_vector(), m(want.size(), 0.0), v(want.size(), 0.0);
      nn::AdamWOptions opts;
      opts.lr = 0.05;
      opts.beta1 = 0.8;
      opts.beta2 = 0.95;
      opts.eps = 1e-6;
      opts.weight_decay = wd;
      nn::AdamW opt({p}, opts);
      for (int t = 1; t <= 3; ++t) {
        opt.zero_grad();
        Tensor w = randn({3, 4}, dt, Device::cpu(), gen);
        backward(sum(p * p * w));  // dL/dp = 2 p w
        const std::vector<double> pv = p.to_vector(), wv = w.to_vector(), gv = p.grad().to_vector();
        opt.step();
        const double bc1 = 1 - std::pow(opts.beta1, t), bc2 = 1 - std::pow(opts.beta2, t);
        for (size_t i = 0; i < want.size(); ++i) {
          const double g = gv[i];
          m[i] = opts.beta1 * m[i] + (1 - opts.beta1) * g;
          v[i] = opts.beta2 * v[i] + (1 - opts.beta2) * g * g;
          want[i] = pv[i] - opts.lr * (m[i] / bc1 / (std::sqrt(v[i] / bc2) + opts.eps) + wd * pv[i]);
        }
        CHECK(opt.steps() == t);
        // float64 differs from the double loop only by rounding order; float32 by float32 rounding
        // of each intermediate (|p| ~ 1, 6 operations).
        CHECK(petl::testing::max_abs_diff(p.to_vector(), want) < (dt == DType::F64 ? 1e-14 : 2e-6));
      }
    }
  }
}

TEST_CASE("adamw: a parameter without a gradient is left as it is") {
  Tensor a = full({2}, 1.5).set_requires_grad(true), b = full({2}, -2.0).set_requires_grad(true);
  nn::AdamW opt({a, b}, {});
  backward(sum(a * a));
  opt.step();
  CHECK(b.to_vector() == std::vector<double>{-2.0, -2.0});
  CHECK(a.to_vector() != std::vector<double>{1.5, 1.5});
}

// The training step's memory-saving paths (docs/performance.md, "GPT-2 training step"): the
// cross-entropy gradient written over logits nobody else holds, GPT-2's loss over shifted labels,
// and the fused AdamW kernel against the update rule on a parameter that is a view.
#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/adamw.h"
#include "nn/gpt2.h"
#include "support/tensor_helpers.h"
#include "tensor/allocator.h"
#include "tensor/kernels.h"

using namespace petl;
using petl::testing::leaf;
using petl::testing::max_abs_diff;
using Inputs = std::vector<Tensor>;

namespace {
Tensor ids(const std::vector<int64_t>& v) { return from_vector(v, {int64_t(v.size())}); }
}  // namespace

TEST_CASE("train step: gradcheck of cross_entropy over logits that only the loss holds") {
  // in[0] * 2.0 is a temporary: the loss's closure holds the last reference and writes dx over it.
  const Tensor targets = ids({2, -100, 0, 4});
  Tensor x = leaf({4, 5}, 3);
  CHECK_GRADIENTS([targets](const Inputs& in) { return cross_entropy(in[0] * 2.0, targets, -100); }, x);
  Tensor w = leaf({3, 5}, 4), h = leaf({4, 3}, 5);
  CHECK_GRADIENTS([targets](const Inputs& in) { return cross_entropy(matmul(in[0], in[1]), targets, -100); }, h, w);
}

TEST_CASE("train step: the gradient over unheld logits equals the one beside held logits, and saves their size") {
  // Logits [N, V] = h [N, K] @ W [K, V] with V*N far larger than the weight: the backward's peak
  // differs by one [N, V] tensor between keeping the logits and letting the loss take them.
  const int64_t N = 64, K = 4, V = 512;
  Generator gen(11);
  const Tensor h0 = randn({N, K}, DType::F32, Device::cpu(), gen), w0 = randn({K, V}, DType::F32, Device::cpu(), gen);
  std::vector<int64_t> t(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) t[size_t(i)] = (i * 37) % V;
  const Tensor targets = ids(t);
  CachingAllocator& alloc = allocator_for(Device::cpu());
  auto run = [&](bool keep_logits, std::vector<double>& grad, int64_t& backward_peak) {
    Tensor w = kernel::clone(w0).set_requires_grad(true);
    Tensor logits = matmul(h0, w);
    const Tensor loss = cross_entropy(logits, targets);
    if (!keep_logits) logits = Tensor();
    const int64_t in_use = alloc.stats().bytes_in_use;
    alloc.reset_peak();
    backward(loss);
    backward_peak = alloc.stats().peak_bytes_in_use - in_use;
    grad = w.grad().to_vector();
  };
  std::vector<double> kept, taken;
  int64_t peak_kept = 0, peak_taken = 0;
  run(true, kept, peak_kept);
  run(false, taken, peak_taken);
  CHECK(kept == taken);  // the same kernel, the same values: only where they are written differs
  CHECK(peak_kept - peak_taken >= N * V * int64_t(sizeof(float)));
}

TEST_CASE("train step: a retained graph keeps its logits, so a second backward gives the same gradient") {
  Generator gen(12);
  Tensor w = randn({3, 6}, DType::F64, Device::cpu(), gen).set_requires_grad(true);
  const Tensor h = randn({5, 3}, DType::F64, Device::cpu(), gen);
  const Tensor loss = cross_entropy(matmul(h, w), ids({0, 1, 2, 3, 5}));
  backward(loss, Tensor(), /*retain_graph=*/true);
  const std::vector<double> once = w.grad().to_vector();
  backward(loss);
  const std::vector<double> twice = w.grad().to_vector();
  for (size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == doctest::Approx(2 * once[i]).epsilon(1e-12));
}

TEST_CASE("train step: GPT-2's loss over shifted labels equals the loss over cut logits, value and gradient") {
  nn::Gpt2Config c;
  c.vocab_size = 97;
  c.bos_token_id = c.eos_token_id = 96;
  c.n_layer = 1;
  c.n_embd = 16;
  c.n_head = 2;
  c.n_positions = 32;
  nn::Gpt2LMHead model(c, 5);
  model.train(false);
  const int64_t B = 2, T = 7;
  std::vector<int64_t> v;
  for (int64_t i = 0; i < B * T; ++i) v.push_back((i * 13 + 5) % c.vocab_size);
  v[3] = -100;  // an ignored label inside the sequence
  const Tensor labels = from_vector(v, {B, T});
  std::vector<int64_t> in = v;
  in[3] = 1;
  const Tensor input = from_vector(in, {B, T});
  auto wte_grad = [&](bool shifted, double& loss_value) {
    model.zero_grad();
    const Tensor logits = model.forward(input);
    // The formulation before the shift: logits cut at T - 1, labels from 1.
    const Tensor loss = shifted ? model.loss(logits, labels)
                                : cross_entropy(reshape(slice(logits, 1, 0, T - 1), {-1, c.vocab_size}),
                                                reshape(slice(labels, 1, 1, T), {-1}), -100);
    loss_value = loss.item();
    backward(loss);
    return model.transformer->wte->weight.grad().to_vector();
  };
  double cut_loss = 0, shifted_loss = 0;
  const std::vector<double> cut = wte_grad(false, cut_loss), shifted = wte_grad(true, shifted_loss);
  CHECK(shifted_loss == doctest::Approx(cut_loss).epsilon(1e-6));
  CHECK(max_abs_diff(cut, shifted) < 1e-7);
}

TEST_CASE("train step: fused AdamW on float64 follows the update rule, frozen parameters are refused") {
  Generator gen(13);
  Tensor p = randn({5, 3}, DType::F64, Device::cpu(), gen).set_requires_grad(true);
  nn::AdamW opt({p}, {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.05});
  std::vector<double> m(15, 0.0), s(15, 0.0), want = p.to_vector();
  for (int t = 1; t <= 4; ++t) {
    opt.zero_grad();
    backward(sum(pow(p, 3.0)));  // g = 3 p^2
    const std::vector<double> g = p.grad().to_vector(), before = p.to_vector();
    opt.step();
    const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.99, t);
    for (size_t i = 0; i < want.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      s[i] = 0.99 * s[i] + 0.01 * g[i] * g[i];
      want[i] = before[i] - 0.01 * (m[i] / bc1 / (std::sqrt(s[i] / bc2) + 1e-8) + 0.05 * before[i]);
    }
    CHECK(max_abs_diff(p.to_vector(), want) < 1e-14);
  }
  Tensor frozen = zeros({2});
  CHECK_THROWS_WITH_AS(nn::AdamW({frozen}), doctest::Contains("does not require a gradient"), Error);
}

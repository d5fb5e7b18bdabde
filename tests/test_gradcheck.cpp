// Finite-difference gradient checks (float64, relative tolerance 1e-6) for every differentiable
// op, with random shapes, broadcasting and non-contiguous (transposed, sliced) inputs.
#include "support/tensor_helpers.h"

using namespace petl;
using petl::testing::leaf;
using petl::testing::leaf_away_from_zero;
using petl::testing::leaf_uniform;
using petl::testing::random_dim;
using petl::testing::strided_leaf;
using petl::testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

TEST_CASE("gradcheck: add/sub/mul/div with broadcasting") {
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t a = random_dim(rng, 1, 3), b = random_dim(rng, 2, 4), c = random_dim(rng, 2, 4);
    Tensor x = leaf({a, b, c}, 10 + trial);
    Tensor row = leaf({c}, 20 + trial);           // broadcast over the leading axes
    Tensor col = leaf({b, 1}, 30 + trial);        // broadcast over the last axis
    Tensor den = leaf_uniform({1, b, c}, 0.5, 2.0, 40 + trial);
    CHECK_GRADIENTS([](const Inputs& in) { return add(in[0], in[1]); }, x, row);
    CHECK_GRADIENTS([](const Inputs& in) { return sub(in[0], in[1]); }, x, col);
    CHECK_GRADIENTS([](const Inputs& in) { return mul(in[0], in[1]); }, x, col);
    CHECK_GRADIENTS([](const Inputs& in) { return div(in[0], in[1]); }, x, den);
    CHECK_GRADIENTS([](const Inputs& in) { return div(in[1], in[0]); }, den, row);
  }
}

TEST_CASE("gradcheck: binary ops on non-contiguous inputs") {
  Tensor t = transposed_leaf({3, 4}, 1);
  Tensor s = strided_leaf({3, 4}, 2);
  CHECK_GRADIENTS([](const Inputs& in) { return mul(in[0], in[1]); }, t, s);
  CHECK_GRADIENTS([](const Inputs& in) { return sub(in[0], in[1]); }, s, t);
  CHECK_GRADIENTS([](const Inputs& in) { return (in[0] * 3.0 + 1.0) / 2.0 - in[1] * in[1]; }, t, s);
}

TEST_CASE("gradcheck: unary ops") {
  std::mt19937_64 rng(2);
  const Shape shape = {random_dim(rng, 2, 4), random_dim(rng, 2, 5)};
  Tensor x = leaf(shape, 3);
  Tensor pos = leaf_uniform(shape, 0.3, 2.0, 4);
  Tensor nz = leaf_away_from_zero(shape, 5);
  Tensor xt = transposed_leaf(shape, 6);
  CHECK_GRADIENTS([](const Inputs& in) { return neg(in[0]); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return -in[0]; }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return exp(in[0]); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return log(in[0]); }, pos);
  CHECK_GRADIENTS([](const Inputs& in) { return sqrt(in[0]); }, pos);
  CHECK_GRADIENTS([](const Inputs& in) { return tanh(in[0]); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return relu(in[0]); }, nz);
  CHECK_GRADIENTS([](const Inputs& in) { return gelu(in[0], GeluApprox::Tanh); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return gelu(in[0], GeluApprox::Erf); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return pow(in[0], 2.5); }, pos);
  CHECK_GRADIENTS([](const Inputs& in) { return pow(in[0], 3.0); }, x);
}

TEST_CASE("gradcheck: sum and mean over axes, keepdim or not") {
  Tensor x = leaf({2, 3, 4}, 7);
  Tensor xt = transposed_leaf({2, 3, 4}, 8);
  for (bool keep : {false, true}) {
    CAPTURE(keep);
    CHECK_GRADIENTS([keep](const Inputs& in) { return sum(in[0], {1}, keep); }, x);
    CHECK_GRADIENTS([keep](const Inputs& in) { return sum(in[0], {0, 2}, keep); }, xt);
    CHECK_GRADIENTS([keep](const Inputs& in) { return sum(in[0], {}, keep); }, x);
    CHECK_GRADIENTS([keep](const Inputs& in) { return mean(in[0], {-1}, keep); }, xt);
    CHECK_GRADIENTS([keep](const Inputs& in) { return mean(in[0], {0, 1}, keep); }, x);
  }
}

TEST_CASE("gradcheck: max over axes") {
  Tensor x = leaf({3, 4, 5}, 9);  // continuous random values: no ties
  Tensor xt = transposed_leaf({3, 5, 4}, 10);
  for (bool keep : {false, true}) {
    CAPTURE(keep);
    CHECK_GRADIENTS([keep](const Inputs& in) { return max(in[0], {2}, keep); }, x);
    CHECK_GRADIENTS([keep](const Inputs& in) { return max(in[0], {0, 2}, keep); }, xt);
    CHECK_GRADIENTS([keep](const Inputs& in) { return max(in[0], {}, keep); }, x);
  }
}

TEST_CASE("gradcheck: views") {
  Tensor x = leaf({2, 3, 4}, 11);
  Tensor xt = transposed_leaf({2, 4, 3}, 12);
  CHECK_GRADIENTS([](const Inputs& in) { return reshape(in[0], {6, 4}) * 2.0; }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return reshape(in[0], {-1}); }, xt);  // needs a copy
  CHECK_GRADIENTS([](const Inputs& in) { return permute(in[0], {2, 0, 1}) * 1.5; }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return transpose(in[0], 0, 2); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return slice(in[0], 2, 1, 4, 2); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return slice(in[0], 1, -3, -1); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return expand(in[0], {3, 2, 3, 4}) * 0.5; }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return expand(unsqueeze(in[0], 1), {2, 5, 4, 3}); }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return squeeze(unsqueeze(in[0], 0), 0); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return contiguous(in[0]); }, xt);
}

TEST_CASE("gradcheck: concat and split") {
  Tensor a = leaf({2, 3}, 13), b = transposed_leaf({2, 4}, 14), c = strided_leaf({2, 1}, 15);
  CHECK_GRADIENTS([](const Inputs& in) { return concat({in[0], in[1], in[2]}, 1); }, a, b, c);
  CHECK_GRADIENTS([](const Inputs& in) { return concat({in[0], in[0]}, 0); }, a);
  Tensor x = leaf({3, 7}, 16);
  CHECK_GRADIENTS(
      [](const Inputs& in) {
        auto parts = split(in[0], {2, 4, 1}, 1);
        return concat({parts[2] * 2.0, parts[0], parts[1] * parts[1]}, 1);
      },
      x);
}

TEST_CASE("gradcheck: matmul") {
  std::mt19937_64 rng(3);
  const int64_t M = random_dim(rng, 2, 4), K = random_dim(rng, 2, 5), N = random_dim(rng, 2, 4);
  auto mm = [](const Inputs& in) { return matmul(in[0], in[1]); };
  CHECK_GRADIENTS(mm, leaf({M, K}, 17), leaf({K, N}, 18));
  CHECK_GRADIENTS(mm, transposed_leaf({M, K}, 19), transposed_leaf({K, N}, 20));
  CHECK_GRADIENTS(mm, leaf({2, M, K}, 21), leaf({2, K, N}, 22));           // batched
  CHECK_GRADIENTS(mm, leaf({3, 1, M, K}, 23), leaf({2, K, N}, 24));        // broadcast batch
  CHECK_GRADIENTS(mm, leaf({2, 3, M, K}, 25), leaf({K, N}, 26));           // shared weight (Linear)
  CHECK_GRADIENTS(mm, transposed_leaf({2, M, K}, 27), leaf({K, N}, 28));   // shared weight, strided x
  CHECK_GRADIENTS(mm, strided_leaf({M, K}, 29), leaf({1, K, N}, 30));
}

TEST_CASE("gradcheck: softmax and log_softmax") {
  Tensor x = leaf({2, 3, 5}, 31);
  Tensor xt = transposed_leaf({3, 4}, 32);
  for (int64_t axis : {0, 1, -1}) {
    CAPTURE(axis);
    CHECK_GRADIENTS([axis](const Inputs& in) { return softmax(in[0], axis); }, x);
    CHECK_GRADIENTS([axis](const Inputs& in) { return log_softmax(in[0], axis); }, x);
  }
  CHECK_GRADIENTS([](const Inputs& in) { return softmax(in[0], -1); }, xt);
  Tensor s0 = leaf({}, 60);  // a 0-d tensor: the derivative of a constant 1 (or 0) is 0
  CHECK_GRADIENTS([](const Inputs& in) { return log_softmax(in[0], 0) + in[0]; }, s0);
  CHECK_GRADIENTS([](const Inputs& in) { return log_softmax(in[0], 0); }, xt);
}

TEST_CASE("gradcheck: layer_norm") {
  Tensor x = leaf({2, 3, 6}, 33), g = leaf({6}, 34), b = leaf({6}, 35);
  Tensor xt = transposed_leaf({4, 5}, 36);
  CHECK_GRADIENTS([](const Inputs& in) { return layer_norm(in[0], in[1], in[2], 1e-5); }, x, g, b);
  CHECK_GRADIENTS([](const Inputs& in) { return layer_norm(in[0], Tensor(), Tensor(), 1e-5); }, xt);
  Tensor g5 = leaf({5}, 37);
  CHECK_GRADIENTS([](const Inputs& in) { return layer_norm(in[0], in[1], Tensor(), 1e-3); }, xt, g5);
}

TEST_CASE("gradcheck: embedding (repeated ids accumulate)") {
  Tensor w = leaf({7, 4}, 38);
  Tensor ids = from_vector(std::vector<int64_t>{1, 3, 1, 6, 0, 3}, {2, 3});
  CHECK_GRADIENTS([ids](const Inputs& in) { return embedding(in[0], ids); }, w);
  Tensor wt = transposed_leaf({7, 4}, 39);
  CHECK_GRADIENTS([ids](const Inputs& in) { return embedding(in[0], ids) * 2.0; }, wt);
}

TEST_CASE("gradcheck: masked_fill") {
  Tensor x = leaf({3, 4}, 40);
  Tensor mask = from_vector(std::vector<int64_t>{1, 0, 0, 1}, {4});  // broadcast over rows
  CHECK_GRADIENTS([mask](const Inputs& in) { return masked_fill(in[0], mask, -3.0); }, x);
  Tensor xt = transposed_leaf({3, 4}, 41);
  Tensor mask2 = from_vector(std::vector<double>{0, 1, 0}, {3, 1}, DType::F64);
  CHECK_GRADIENTS([mask2](const Inputs& in) { return masked_fill(in[0], mask2, 0.0); }, xt);
}

TEST_CASE("gradcheck: dropout (mask reproduced from the seed)") {
  Tensor x = leaf({4, 5}, 42);
  Tensor xt = transposed_leaf({4, 5}, 43);
  auto f = [](const Inputs& in) {
    Generator gen(99);  // a fresh generator: every evaluation draws the same mask
    return dropout(in[0], 0.3, true, gen);
  };
  CHECK_GRADIENTS(f, x);
  CHECK_GRADIENTS(f, xt);
}

TEST_CASE("gradcheck: cross_entropy with ignore_index") {
  Tensor logits = leaf({5, 7}, 44);
  Tensor targets = from_vector(std::vector<int64_t>{2, -100, 6, 0, 2}, {5});
  CHECK_GRADIENTS([targets](const Inputs& in) { return cross_entropy(in[0], targets, -100); }, logits);
  Tensor lt = transposed_leaf({5, 7}, 45);
  CHECK_GRADIENTS([targets](const Inputs& in) { return cross_entropy(in[0], targets, -100) * 3.0; }, lt);
}

TEST_CASE("gradcheck: fused attention (causal, key mask, extra key/value rows)") {
  const int64_t B = 2, H = 2, Tq = 3, D = 4;
  for (int64_t Tk : {3, 5}) {  // Tk > Tq: two extra leading key/value rows (a prefix)
    for (bool causal : {false, true}) {
      CAPTURE(Tk);
      CAPTURE(causal);
      Tensor q = leaf({B, H, Tq, D}, 46), k = leaf({B, H, Tk, D}, 47), v = leaf({B, H, Tk, D}, 48);
      std::vector<int64_t> keep(size_t(B * Tk), 1);
      keep[size_t(Tk - 1)] = 0;  // batch 0: the last key is padding
      Tensor mask = from_vector(keep, {B, Tk});
      AttentionOptions opts;
      opts.causal = causal;
      CHECK_GRADIENTS([opts](const Inputs& in) { return attention(in[0], in[1], in[2], Tensor(), opts); }, q, k, v);
      CHECK_GRADIENTS([opts, mask](const Inputs& in) { return attention(in[0], in[1], in[2], mask, opts); }, q, k, v);
    }
  }
  // Non-contiguous q (a transposed view) and a custom scale.
  Tensor qt = transposed_leaf({1, 2, 3, 4}, 49);
  Tensor k = leaf({1, 2, 3, 4}, 50), v = leaf({1, 2, 3, 2}, 51);
  AttentionOptions opts;
  opts.scale = 0.7;
  CHECK_GRADIENTS([opts](const Inputs& in) { return attention(in[0], in[1], in[2], Tensor(), opts); }, qt, k, v);
}

TEST_CASE("gradcheck: sum_to, the gradient of a broadcast") {
  Tensor x = leaf({2, 3, 4}, 13);
  Tensor xt = transposed_leaf({3, 2, 4}, 14);
  CHECK_GRADIENTS([](const Inputs& in) { return sum_to(in[0], {3, 4}); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return sum_to(in[0], {2, 1, 4}); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return sum_to(in[0], {1}); }, x);
  CHECK_GRADIENTS([](const Inputs& in) { return sum_to(in[0], {2, 1}) * 2.0; }, xt);
  CHECK_GRADIENTS([](const Inputs& in) { return sum_to(in[0], {3, 2, 4}); }, xt);  // nothing to sum
}

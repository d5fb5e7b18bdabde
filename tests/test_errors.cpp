// Bad arguments raise petl::Error naming the op and the shapes (or dtypes, devices) involved.
#include "support/tensor_helpers.h"

using namespace petl;
using doctest::Contains;

TEST_CASE("errors: shape mismatches name the op and both shapes") {
  Tensor a = zeros({2, 3}), b = zeros({4, 3});
  CHECK_THROWS_WITH_AS(add(a, b), Contains("add: shapes [2, 3] and [4, 3] cannot be broadcast"), Error);
  CHECK_THROWS_WITH_AS(mul(a, zeros({3, 2})), Contains("mul: shapes [2, 3] and [3, 2]"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, zeros({2, 3})), Contains("matmul: inner dimensions differ, [2, 3] @ [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({3}), a), Contains("matmul: both operands need at least 2 dims"), Error);
  CHECK_THROWS_WITH_AS(kernel::reshape(a, {4, 2}), Contains("reshape: cannot reshape [2, 3] (6 elements) to [4, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(a, zeros({2}), Tensor()), Contains("layer_norm: weight/bias of shape [2] for input [2, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(concat({a, zeros({2, 4})}, 0), Contains("concat: shapes [2, 3] and [2, 4] differ outside axis 0"),
                       Error);
  CHECK_THROWS_WITH_AS(expand(a, {2, 5}), Contains("expand: cannot expand shape [2, 3] to [2, 5]"), Error);
  CHECK_THROWS_WITH_AS(split(a, {1, 1}, 1), Contains("split: sizes add up to 2 but axis 1 of [2, 3] has 3"), Error);
  CHECK_THROWS_WITH_AS(attention(zeros({1, 2, 3, 4}), zeros({1, 2, 3, 5}), zeros({1, 2, 3, 4})),
                       Contains("attention: k [1, 2, 3, 5] does not match q [1, 2, 3, 4]"), Error);
  CHECK_THROWS_WITH_AS(attention(zeros({1, 1, 3, 4}), zeros({1, 1, 3, 4}), zeros({1, 1, 3, 4}), ones({1, 2})),
                       Contains("attention: key_mask [1, 2], expected [B, Tk] = [1, 3]"), Error);
}

TEST_CASE("errors: bad axes") {
  Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH_AS(sum(a, {2}), Contains("sum: axis 2 is out of range for a tensor of 2 dims"), Error);
  CHECK_THROWS_WITH_AS(softmax(a, -3), Contains("axis -3 is out of range"), Error);
  CHECK_THROWS_WITH_AS(transpose(a, 0, 5), Contains("transpose: axis 5 is out of range"), Error);
  CHECK_THROWS_WITH_AS(sum(a, {1, -1}), Contains("sum: axis 1 listed twice"), Error);
  CHECK_THROWS_WITH_AS(squeeze(a, 0), Contains("squeeze: axis 0 of shape [2, 3] has size 2, expected 1"), Error);
  CHECK_THROWS_WITH_AS(permute(a, {0, 0}), Contains("permute: axis 0 repeated"), Error);
}

TEST_CASE("errors: dtype and device mixing") {
  Tensor f32 = zeros({2}), f64 = zeros({2}, DType::F64);
  CHECK_THROWS_WITH_AS(add(f32, f64), Contains("add: dtype mismatch, float32 [2] vs float64 [2]"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}), zeros({2, 2}, DType::F64)), Contains("matmul: dtype mismatch"), Error);
  Tensor ids = from_vector(std::vector<double>{0, 1}, {2});
  CHECK_THROWS_WITH_AS(embedding(zeros({3, 2}), ids), Contains("embedding: ids must be int64, got float32 [2]"), Error);
  CHECK_THROWS_WITH_AS(exp(arange(0, 3)), Contains("exp: expected a floating tensor, got int64 [3]"), Error);
  CHECK_THROWS_WITH_AS(Tensor(arange(0, 2)).set_requires_grad(true), Contains("int64 tensor cannot have a gradient"),
                       Error);
  // A CPU tensor with a (hypothetical) CUDA tensor: the device check runs before any CUDA call.
  if (!cuda_available()) {
    CHECK_THROWS_AS(add(f32, zeros({2}, DType::F32, Device::cuda())), Error);
  }
}

TEST_CASE("errors: out-of-range ids and targets") {
  Tensor w = zeros({4, 2});
  CHECK_THROWS_WITH_AS(embedding(w, from_vector(std::vector<int64_t>{1, 4}, {2})),
                       Contains("embedding: id 4 at position 1 is outside [0, 4)"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), from_vector(std::vector<int64_t>{0, 3}, {2})),
                       Contains("cross_entropy: target 3 at row 1 is outside [0, 3)"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), from_vector(std::vector<int64_t>{0}, {1})),
                       Contains("cross_entropy: targets must be int64 [2], got int64 [1]"), Error);
  CHECK_THROWS_WITH_AS(dropout(zeros({2}), 1.0, true), Contains("dropout: probability must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                       Contains("from_vector: 3 values cannot fill shape [2, 2]"), Error);
}

// The fused attention at shapes that cross its tiles (tensor/cpu/attention.cpp: 32 query rows per
// tile, 256 keys per online-softmax block), against attention composed from primitive ops, and its
// rows that see no key at all.
#include <cmath>
#include <limits>

#include "support/tensor_helpers.h"

using namespace petl;
using petl::testing::leaf;

namespace {

// Whether query i of batch b sees key j: the rule stated at AttentionOptions (tensor/backend.h).
bool visible(const Tensor& key_mask, bool causal, int64_t b, int64_t i, int64_t j, int64_t Tq, int64_t Tk) {
  if (key_mask.defined() && key_mask.at({b, j}) == 0) return false;
  return !causal || j <= i + (Tk - Tq);
}

// softmax(scale Q K^T + mask) V from matmul, masked_fill and softmax; a row with no visible key is
// multiplied by 0 (the fused op's zero row), [B, 1, Tq, 1].
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal) {
  const int64_t B = q.size(0), Tq = q.size(2), Tk = k.size(2), D = q.size(3);
  std::vector<double> hidden(size_t(B * Tq * Tk), 1.0), any(size_t(B * Tq), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t j = 0; j < Tk; ++j)
        if (visible(key_mask, causal, b, i, j, Tq, Tk)) hidden[size_t((b * Tq + i) * Tk + j)] = 0.0, any[size_t(b * Tq + i)] = 1.0;
  Tensor scores = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(double(D)));
  Tensor probs = softmax(masked_fill(scores, from_vector(hidden, {B, 1, Tq, Tk}, DType::F64), -1e30), -1);
  return matmul(probs, v) * from_vector(any, {B, 1, Tq, 1}, DType::F64);
}

struct Case {
  int64_t Tq, Tk;
  bool causal;
  std::vector<int64_t> keep;  // [B, Tk] key mask, empty for none
};

double max_diff(const Tensor& a, const Tensor& b) { return petl::testing::max_abs_diff(a.to_vector(), b.to_vector()); }

// Fused forward and dQ, dK, dV against the composed op at float64.
void check_against_composed(const Case& c) {
  const int64_t B = 2, H = 2, D = 8;
  const Tensor mask = c.keep.empty() ? Tensor() : from_vector(c.keep, {B, c.Tk});
  Tensor q1 = leaf({B, H, c.Tq, D}, 61), k1 = leaf({B, H, c.Tk, D}, 62), v1 = leaf({B, H, c.Tk, D}, 63);
  Tensor q2 = leaf({B, H, c.Tq, D}, 61), k2 = leaf({B, H, c.Tk, D}, 62), v2 = leaf({B, H, c.Tk, D}, 63);
  AttentionOptions opts;
  opts.causal = c.causal;
  Tensor fused = attention(q1, k1, v1, mask, opts);
  Tensor composed = composed_attention(q2, k2, v2, mask, c.causal);
  Tensor R = randn(fused.shape(), DType::F64);
  backward(sum(fused * R));
  backward(sum(composed * R));
  CHECK(max_diff(fused, composed) < 1e-12);
  CHECK(max_diff(q1.grad(), q2.grad()) < 1e-12);
  CHECK(max_diff(k1.grad(), k2.grad()) < 1e-12);
  CHECK(max_diff(v1.grad(), v2.grad()) < 1e-12);
}

// Batch 0 keeps every key but the last 3; batch 1 hides keys [from, to).
std::vector<int64_t> padding(int64_t Tk, int64_t from, int64_t to) {
  std::vector<int64_t> keep(size_t(2 * Tk), 1);
  for (int64_t j = Tk - 3; j < Tk; ++j) keep[size_t(j)] = 0;
  for (int64_t j = from; j < to; ++j) keep[size_t(Tk + j)] = 0;
  return keep;
}

}  // namespace

TEST_CASE("attention: several query tiles and key blocks match attention composed from primitive ops") {
  // 130 queries = 4 tiles of 32 and one of 2; 300 keys = blocks of 256 and 44 (170 leading prefix keys when causal).
  for (bool causal : {false, true}) {
    CAPTURE(causal);
    check_against_composed({130, 300, causal, {}});
    check_against_composed({130, 300, causal, padding(300, 100, 200)});
    // Batch 1's first key block is entirely padding: the online softmax starts in the second block.
    check_against_composed({130, 300, causal, padding(300, 0, 256)});
    check_against_composed({130, 130, causal, {}});  // square, as in a causal language model
  }
  // A decoding step: one query over a long cache, and a few queries over it.
  check_against_composed({1, 300, true, padding(300, 0, 7)});
  check_against_composed({3, 270, true, {}});
}

TEST_CASE("attention: rows that see no key get a zero output, lse -inf and no gradient") {
  // Causal with fewer keys than queries: query i sees keys j <= i - 70, so rows 0..69 see none
  // (query tiles 0 and 1 see no key at all, tile 2 starts with six empty rows); batch 1 hides every key.
  const int64_t B = 2, H = 1, Tq = 130, Tk = 60, D = 4;
  std::vector<int64_t> keep(size_t(B * Tk), 1);
  for (int64_t j = 0; j < Tk; ++j) keep[size_t(Tk + j)] = 0;
  const Tensor mask = from_vector(keep, {B, Tk});
  AttentionOptions opts;
  opts.causal = true;
  for (DType dtype : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dtype));
    Tensor q = randn({B, H, Tq, D}, dtype), k = randn({B, H, Tk, D}, dtype), v = randn({B, H, Tk, D}, dtype);
    const auto r = kernel::attention(q, k, v, mask, opts);
    const auto g = kernel::attention_backward(ones(r.out.shape(), dtype), q, k, v, mask, r.out, r.lse, opts, true,
                                              true, true);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Tq; ++i) {
        const bool empty = b == 1 || i < Tq - Tk;
        CAPTURE(b);
        CAPTURE(i);
        CHECK((r.lse.at({b, 0, i}) == -std::numeric_limits<double>::infinity()) == empty);
        for (int64_t e = 0; e < D; ++e) {
          CHECK(std::isfinite(r.out.at({b, 0, i, e})));
          CHECK(std::isfinite(g.dq.at({b, 0, i, e})));
          if (empty) CHECK(r.out.at({b, 0, i, e}) == 0.0);
          if (empty) CHECK(g.dq.at({b, 0, i, e}) == 0.0);
        }
      }
    for (double e : kernel::slice(g.dk, 0, 1, 2).to_vector()) CHECK(e == 0.0);  // batch 1: no key is seen
    for (double e : kernel::slice(g.dv, 0, 1, 2).to_vector()) CHECK(e == 0.0);
  }
}

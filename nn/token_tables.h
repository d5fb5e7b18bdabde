// Host-side tables the decoding loops work on: the token ids generated so far (one row per
// sequence, as transformers' `input_ids` during generate) and one row of scores per sequence.
// Decoding makes small, data-dependent choices per row (bans, top-k, beams), which read plainly on
// host vectors; the model's logits arrive as a tensor and are copied here once per step.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "tensor/tensor.h"

namespace petl::nn {

// rows x length token ids, row-major.
struct TokenTable {
  int64_t rows = 0, length = 0;
  std::vector<int64_t> ids;

  std::span<int64_t> row(int64_t r) { return {ids.data() + r * length, size_t(length)}; }
  std::span<const int64_t> row(int64_t r) const { return {ids.data() + r * length, size_t(length)}; }
  int64_t& at(int64_t r, int64_t c) { return ids[size_t(r * length + c)]; }
  int64_t at(int64_t r, int64_t c) const { return ids[size_t(r * length + c)]; }

  static TokenTable from_tensor(const Tensor& ids);  // int64 [rows, length]
  Tensor to_tensor() const;                          // int64 [rows, length]
  // A copy with one more column holding `next[r]` in row r.
  TokenTable appended(const std::vector<int64_t>& next) const;
};

// rows x vocab scores (logits, or log-probabilities in beam search), row-major float32.
struct ScoreTable {
  int64_t rows = 0, vocab = 0;
  std::vector<float> values;

  std::span<float> row(int64_t r) { return {values.data() + r * vocab, size_t(vocab)}; }
  std::span<const float> row(int64_t r) const { return {values.data() + r * vocab, size_t(vocab)}; }

  static ScoreTable from_tensor(const Tensor& scores);  // float32 [rows, vocab], any device
};

}  // namespace petl::nn

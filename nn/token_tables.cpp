#include "nn/token_tables.h"

#include <algorithm>

#include "autograd/ops.h"

namespace petl::nn {

TokenTable TokenTable::from_tensor(const Tensor& ids) {
  PETL_CHECK(ids.dim() == 2 && ids.dtype() == DType::I64, "TokenTable: expected int64 [rows, length], found ",
             dtype_name(ids.dtype()), " ", shape_str(ids.shape()));
  const Tensor host = contiguous(to(ids, Device::cpu()));
  TokenTable t;
  t.rows = ids.size(0);
  t.length = ids.size(1);
  t.ids.assign(host.data<int64_t>(), host.data<int64_t>() + host.numel());
  return t;
}

Tensor TokenTable::to_tensor() const { return from_vector(ids, {rows, length}); }

TokenTable TokenTable::appended(const std::vector<int64_t>& next) const {
  PETL_CHECK(int64_t(next.size()) == rows, "TokenTable::appended: ", next.size(), " tokens for ", rows, " rows");
  TokenTable out;
  out.rows = rows;
  out.length = length + 1;
  out.ids.resize(size_t(out.rows * out.length));
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(row(r).begin(), row(r).end(), out.row(r).begin());
    out.at(r, length) = next[size_t(r)];
  }
  return out;
}

ScoreTable ScoreTable::from_tensor(const Tensor& scores) {
  PETL_CHECK(scores.dim() == 2 && scores.dtype() == DType::F32, "ScoreTable: expected float32 [rows, vocab], found ",
             dtype_name(scores.dtype()), " ", shape_str(scores.shape()));
  const Tensor host = contiguous(to(scores.detach(), Device::cpu()));
  ScoreTable t;
  t.rows = scores.size(0);
  t.vocab = scores.size(1);
  t.values.assign(host.data<float>(), host.data<float>() + host.numel());
  return t;
}

}  // namespace petl::nn

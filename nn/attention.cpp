#include "nn/attention.h"

#include <limits>
#include <vector>

#include "tensor/kernels.h"

namespace petl::nn {

namespace {
// Gathers rows of x along axis 0: out[i] = x[index[i]] (decoding state; nothing here needs a gradient).
Tensor gather_rows(const Tensor& x, const Tensor& index) {
  Shape shape = x.shape();
  shape[0] = index.numel();
  return reshape(embedding(reshape(x, {x.size(0), -1}), to(index, x.device())), shape);
}

// 1 where query i may not see key j: j > i + (keys - queries), [1, 1, queries, keys].
Tensor causal_hidden(int64_t queries, int64_t keys, Device device) {
  std::vector<float> hidden(size_t(queries * keys), 0.0f);
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = i + (keys - queries) + 1; j < keys; ++j) hidden[size_t(i * keys + j)] = 1.0f;
  return from_vector(hidden, {1, 1, queries, keys}, device);
}
}  // namespace

void KeyValueCache::select_rows(const Tensor& index) {
  if (empty()) return;
  k = gather_rows(k, index);
  v = gather_rows(v, index);
  mask = gather_rows(mask, index);
}

Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2);
  PETL_CHECK(d % heads == 0, "split_heads: width ", d, " is not divisible by ", heads, " heads");
  return transpose(reshape(x, {B, T, heads, d / heads}), 1, 2);  // [B, H, T, d_h]
}

Tensor merge_heads(const Tensor& x) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), dh = x.size(3);
  return reshape(transpose(x, 1, 2), {B, T, H * dh});  // [B, T, d]
}

MultiHeadAttention::MultiHeadAttention(int64_t heads_, double scale_, double dropout_, Generator* dropout_gen)
    : heads(heads_), scale(scale_), dropout(dropout_), dropout_gen_(dropout_gen) {}

Tensor MultiHeadAttention::operator()(const Tensor& q, Tensor k, Tensor v, Tensor key_mask, bool causal,
                                      bool training, KeyValueCache* cache) const {
  const int64_t B = q.size(0);
  if (cache) {  // append the new rows to the cache and attend over all of it
    if (!key_mask.defined()) key_mask = ones({B, k.size(2)}, DType::F32, q.device());
    if (!cache->empty()) {
      k = concat({cache->k, k}, 2);
      v = concat({cache->v, v}, 2);
      key_mask = concat({cache->mask, key_mask}, 1);
    }
    *cache = KeyValueCache{k, v, key_mask};
  }
  for (const auto& hook : key_values.hooks()) {  // K <- [P_k ; K], V <- [P_v ; V]
    KeyValueRows rows = hook->rows(B);
    if (!rows.k.defined()) continue;  // no extra rows in this call
    const Shape shape{B, heads, rows.k.size(2), q.size(3)};
    if (rows.mask.defined() && !key_mask.defined()) key_mask = ones({B, k.size(2)}, DType::F32, q.device());
    k = concat({expand(rows.k, shape), k}, 2);
    v = concat({expand(rows.v, shape), v}, 2);
    if (key_mask.defined())
      key_mask = concat({rows.mask.defined() ? kernel::to(rows.mask, DType::F32) : ones({B, shape[2]}, DType::F32, q.device()),
                         key_mask}, 1);
  }
  if (training && dropout > 0.0) return explicit_attention(q, k, v, key_mask, causal);
  AttentionOptions opts;
  opts.causal = causal;
  opts.scale = scale;
  return attention(q, k, v, key_mask, opts);
}

Tensor MultiHeadAttention::explicit_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                              const Tensor& key_mask, bool causal) const {
  // P = dropout(softmax(scale Q K^T + M)), O = P V; hidden scores get float's lowest value as in
  // Hugging Face's eager attention (finfo.min).
  const int64_t T = q.size(2), S = k.size(2);
  Tensor scores = matmul(q, transpose(k, -1, -2)) * scale;  // [B, H, T, S]
  Tensor hidden = causal ? causal_hidden(T, S, q.device()) : zeros({1, 1, T, S}, DType::F32, q.device());
  if (key_mask.defined())  // + 1 where the key is padding
    hidden = hidden + (reshape(kernel::to(key_mask, DType::F32), {q.size(0), 1, 1, S}) * -1.0 + 1.0);
  scores = masked_fill(scores, hidden, double(std::numeric_limits<float>::lowest()));
  Tensor probs = dropout_gen_ ? petl::dropout(softmax(scores, -1), dropout, true, *dropout_gen_)
                              : petl::dropout(softmax(scores, -1), dropout, true);
  return matmul(probs, v);
}

}  // namespace petl::nn

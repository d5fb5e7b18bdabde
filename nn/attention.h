// Multi-head scaled dot-product attention, the part GPT-2 and BART share. Each model computes its
// own projections (GPT-2's fused c_attn, BART's q/k/v_proj) and hands this class the heads:
//
//   q [B, H, T, d_h], k and v [B, H, S, d_h]
//   K <- [P_k ; cache_k ; k],  V <- [P_v ; cache_v ; v]      extra rows (KeyValueSite), then the cache
//   O = softmax(scale * Q K^T + M) V                           [B, H, T, d_h]
//
// M hides padded keys (key_mask 0) and, when causal, the future: key j is visible to query i when
// j <= i + (S_total - T), so extra rows and cached rows stay visible to every query. Without
// attention dropout this is the engine's fused `attention` op; with it (training, p > 0) the
// probabilities are materialized so dropout can act on them, as Hugging Face does.
#pragma once
#include <cstdint>

#include "autograd/ops.h"
#include "nn/sites.h"

namespace petl::nn {

// Keys and values of the tokens seen so far, per layer, for decoding. k, v [B, H, S, d_h];
// mask [B, S] float (1 = token, 0 = padding). Extra rows from a KeyValueSite are not stored.
struct KeyValueCache {
  Tensor k, v, mask;
  bool empty() const { return !k.defined(); }
  int64_t length() const { return empty() ? 0 : k.size(2); }
  // Row i becomes row index[i] (beam search reordering / expansion).
  void select_rows(const Tensor& index);
};

// [B, T, H * d_h] -> [B, H, T, d_h] and back.
Tensor split_heads(const Tensor& x, int64_t heads);
Tensor merge_heads(const Tensor& x);

class MultiHeadAttention {
 public:
  // scale: the factor on Q K^T (1/sqrt(d_h) for both models); dropout: the attention-probability
  // dropout p, drawn from *dropout_gen.
  MultiHeadAttention(int64_t heads, double scale, double dropout, Generator* dropout_gen);

  // key_mask [B, S] float or undefined (every key visible). When `cache` is given, k and v are the
  // new tokens' rows; they are appended to the cache first and attention runs over all of it
  // (key_mask then covers the new tokens only). Returns the heads [B, H, T, d_h].
  Tensor operator()(const Tensor& q, Tensor k, Tensor v, Tensor key_mask, bool causal, bool training,
                    KeyValueCache* cache = nullptr) const;

  int64_t heads;
  double scale, dropout;
  KeyValueSite key_values;  // prefix rows every query sees

 private:
  Tensor explicit_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                            bool causal) const;
  Generator* dropout_gen_;
};

}  // namespace petl::nn

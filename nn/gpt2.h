// GPT-2 (Radford et al. 2019) as transformers' GPT2LMHeadModel computes it, parameter names and
// layouts included (Conv1D weights [in, out]), so a Hugging Face checkpoint maps one-to-one.
//
//   h_0 = drop(wte[ids] + wpe[pos])                                    [B, T, d]
//   block i (pre-LN):  a = h + attn_site(u, drop(Attn(u))),  u = ln_1(h)
//                      h = a + mlp_site(w, drop(Mlp(w))),    w = ln_2(a)
//   logits = ln_f(h_L) wte^T                                           [B, T, V]  (tied head)
//
// Sites (nn/sites.h) sit at every hook point of shared/PEFT.md §0.2; with none attached this is the
// plain model.
#pragma once
#include <memory>
#include <vector>

#include "nn/attention.h"
#include "nn/gpt2_config.h"
#include "nn/layers.h"
#include "nn/step_model.h"

namespace petl::nn {

// Causal self-attention with the fused projection c_attn: [q | k | v] = u W_attn + b_attn.
class Gpt2Attention : public Module {
 public:
  Gpt2Attention(const Gpt2Config& config, int64_t layer_index, Generator& init, Generator* dropout_gen);
  // u [B, T, d]; key_mask [B, T] float or undefined; cache: keys/values of earlier tokens.
  Tensor forward(const Tensor& u, const Tensor& key_mask, KeyValueCache* cache = nullptr);

  std::shared_ptr<Linear> c_attn, c_proj;
  MultiHeadAttention core;
  SublayerSite heads_site;  // x = u, h = merged heads before c_proj [B, T, d]

 private:
  double resid_pdrop_;
  Generator* dropout_gen_;
};

// z = gelu_tanh(w W_fc + b_fc) [B, T, 4d];  F = z W_pr + b_pr [B, T, d].
class Gpt2Mlp : public Module {
 public:
  Gpt2Mlp(const Gpt2Config& config, Generator& init);
  Tensor forward(const Tensor& w) const;
  std::shared_ptr<Linear> c_fc, c_proj;
  GeluApprox activation;
};

class Gpt2Block : public Module {
 public:
  Gpt2Block(const Gpt2Config& config, int64_t layer_index, Generator& init, Generator* dropout_gen);
  Tensor forward(const Tensor& h, const Tensor& key_mask, KeyValueCache* cache = nullptr);

  std::shared_ptr<LayerNorm> ln_1, ln_2;
  std::shared_ptr<Gpt2Attention> attn;
  std::shared_ptr<Gpt2Mlp> mlp;
  SublayerSite attn_site, mlp_site;  // x = ln_1(h) / ln_2(a), h = the sublayer's dropped-out output

 private:
  double resid_pdrop_;
  Generator* dropout_gen_;
};

// The transformer body (HF GPT2Model): embeddings, blocks, final LayerNorm.
class Gpt2Model : public Module {
 public:
  Gpt2Model(const Gpt2Config& config, Generator& init, Generator* dropout_gen);
  // ids [B, T] int64; mask [B, T] (1 token, 0 padding; undefined = all tokens) for these tokens;
  // position_ids [B, T] int64 or undefined (past_len ... past_len + T - 1); caches: one per block,
  // or empty for a plain forward. Returns ln_f(h_L) [B, T', d] (T' = T plus rows an embedding hook adds).
  Tensor forward(const Tensor& ids, const Tensor& mask = Tensor(), const Tensor& position_ids = Tensor(),
                 std::vector<KeyValueCache>* caches = nullptr);

  Gpt2Config config;
  std::shared_ptr<Embedding> wte, wpe;
  std::vector<std::shared_ptr<Gpt2Block>> h;
  std::shared_ptr<LayerNorm> ln_f;
  EmbeddingSite embedding_site;  // token embeddings before positions are added (prompt tuning)

 private:
  Generator* dropout_gen_;
};

// GPT2LMHeadModel: the body plus the head tied to wte. Parameter names carry the "transformer."
// prefix, as save_pretrained writes them.
class Gpt2LMHead : public Module, public StepModel {
 public:
  explicit Gpt2LMHead(const Gpt2Config& config, uint64_t init_seed = 0);

  // logits [B, T, V] = ln_f(h) wte^T.
  Tensor forward(const Tensor& ids, const Tensor& mask = Tensor(), const Tensor& position_ids = Tensor());
  // HF's causal-LM loss: logits[:, t] predicts labels[:, t + 1]; mean over labels != -100.
  Tensor loss(const Tensor& logits, const Tensor& labels) const;

  // Every site by name ("transformer.h.0.attn", "transformer.h.0.attn.c_attn", ...).
  SiteMap sites();
  // Dropout masks are drawn from this generator (reseed it for reproducible training runs).
  Generator& dropout_generator() { return dropout_gen_; }

  // ---- StepModel: decoding with a key/value cache per block.
  Tensor start(const Tensor& input_ids, const Tensor& attention_mask) override;
  Tensor next(const Tensor& tokens) override;
  void select_rows(const Tensor& index) override;
  int64_t vocab_size() const override { return config().vocab_size; }
  int64_t eos_token_id() const override { return config().eos_token_id; }
  int64_t pad_token_id() const override { return config().pad_token_id; }
  int64_t decoder_start_token_id() const override { return -1; }

  const Gpt2Config& config() const { return transformer->config; }
  std::shared_ptr<Gpt2Model> transformer;

  // How decoding numbers positions when a method puts rows before the tokens (set by
  // peft::decode_like_peft, docs/peft/generation.md). By default a token's position is the number of
  // real tokens before it (transformers' GPT-2 alone).
  //   past_positions: that many rows precede every prompt as a past (peft's prefix tuning: P), so
  //                   the tokens' positions start at P.
  //   positions_over_padding: positions run 0, 1, ... over every row of the sequence, padding
  //                   included (peft's prompt tuning: its generate() drops transformers' position ids
  //                   and GPT-2 falls back to the cache positions).
  int64_t past_positions = 0;
  bool positions_over_padding = false;

 private:
  Tensor last_logits(const Tensor& ids, const Tensor& mask, const Tensor& positions);
  Generator dropout_gen_;
  std::vector<KeyValueCache> caches_;
  Tensor next_position_;  // [B] int64: the position of each row's next token
};

}  // namespace petl::nn

// BART (Lewis et al. 2020) as transformers' BartForConditionalGeneration computes it, parameter
// names and layouts included (torch nn.Linear weights [out, in]).
//
//   encoder: e = drop(LN_emb(shared[src] * s + P_enc[pos + 2]))                    [B, S, d]
//            layer (post-LN): a = LN_sa(e + attn_site(e, drop(SelfAttn(e))))
//                             e = LN_fin(a + ffn_site(a, drop(fc2(drop_act(gelu(fc1(a)))))))
//   decoder: h = drop(LN_emb(shared[tgt] * s + P_dec[pos + 2]))                    [B, T, d]
//            layer: a = LN_sa(h + drop(CausalSelfAttn(h)))
//                   c = LN_ca(a + drop(CrossAttn(a, e)))
//                   h = LN_fin(c + drop(fc2(drop_act(gelu(fc1(c))))))
//   logits = h shared^T + final_logits_bias                                         [B, T, V]
//
// s = sqrt(d) when scale_embedding, else 1. Sites (nn/sites.h) sit at every sublayer, Linear,
// attention and at both stacks' token embeddings.
#pragma once
#include <memory>
#include <vector>

#include "nn/attention.h"
#include "nn/bart_config.h"
#include "nn/layers.h"
#include "nn/step_model.h"

namespace petl::nn {

// Attention with separate projections q_proj, k_proj, v_proj, out_proj (nn.Linear layout).
class BartAttention : public Module {
 public:
  BartAttention(int64_t d, int64_t heads, double attention_dropout, double init_std, Generator& init,
                Generator* dropout_gen);
  // x [B, T, d] the queries; source [B, S, d] the keys/values (x itself for self-attention);
  // key_mask [B, S] float or undefined. Self-attention appends to `cache`; cross-attention
  // (cross = true) fills an empty cache with the source's keys/values once and reuses them after.
  Tensor forward(const Tensor& x, const Tensor& source, const Tensor& key_mask, bool causal, bool cross,
                 KeyValueCache* cache = nullptr);

  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj;
  MultiHeadAttention core;
  SublayerSite heads_site;  // x = the queries' input, h = merged heads before out_proj [B, T, d]
};

// fc2(drop_act(act(fc1(x)))) with fc1, fc2 owned by the layer (BART keeps them at layer level).
Tensor bart_ffn(const Tensor& x, const Linear& fc1, const Linear& fc2, GeluApprox activation,
                double activation_dropout, bool training, Generator& gen);

class BartEncoderLayer : public Module {
 public:
  BartEncoderLayer(const BartConfig& config, Generator& init, Generator* dropout_gen);
  Tensor forward(const Tensor& x, const Tensor& mask);

  std::shared_ptr<BartAttention> self_attn;
  std::shared_ptr<LayerNorm> self_attn_layer_norm, final_layer_norm;
  std::shared_ptr<Linear> fc1, fc2;
  SublayerSite attn_site, ffn_site;

 private:
  BartConfig config_;
  Generator* dropout_gen_;
};

class BartDecoderLayer : public Module {
 public:
  BartDecoderLayer(const BartConfig& config, Generator& init, Generator* dropout_gen);
  // x [B, T, d]; self_mask [B, T] or undefined; encoder_out [B, S, d] with encoder_mask [B, S].
  Tensor forward(const Tensor& x, const Tensor& self_mask, const Tensor& encoder_out, const Tensor& encoder_mask,
                 KeyValueCache* self_cache = nullptr, KeyValueCache* cross_cache = nullptr);

  std::shared_ptr<BartAttention> self_attn, encoder_attn;
  std::shared_ptr<LayerNorm> self_attn_layer_norm, encoder_attn_layer_norm, final_layer_norm;
  std::shared_ptr<Linear> fc1, fc2;
  SublayerSite attn_site, cross_site, ffn_site;

 private:
  BartConfig config_;
  Generator* dropout_gen_;
};

// Token embeddings (shared table, scaled), learned positions with offset 2, layernorm_embedding,
// dropout: the first lines of both stacks.
class BartEmbeddings {
 public:
  BartEmbeddings(const BartConfig& config, std::shared_ptr<Embedding> shared, std::shared_ptr<Embedding> positions,
                 std::shared_ptr<LayerNorm> layernorm, Generator* dropout_gen);
  // Returns the embedded rows and their mask (a hook may have added rows).
  EmbeddedTokens forward(const Tensor& ids, const Tensor& mask, int64_t past, bool training) const;
  EmbeddingSite site;
  // Added to every position (0 for the model itself): peft's BART prefix tuning passes its P rows as
  // a decoder past, which moves the decoder's tokens to positions P .. (peft/bart_prefix.h).
  int64_t position_shift = 0;

 private:
  BartConfig config_;
  std::shared_ptr<Embedding> shared_, positions_;
  std::shared_ptr<LayerNorm> layernorm_;
  Generator* dropout_gen_;
};

class BartEncoder : public Module {
 public:
  BartEncoder(const BartConfig& config, std::shared_ptr<Embedding> shared, Generator& init, Generator* dropout_gen);
  // ids [B, S] int64, mask [B, S] (undefined = no padding) -> e [B, S', d] and its mask.
  EmbeddedTokens forward(const Tensor& ids, const Tensor& mask);

  std::shared_ptr<Embedding> embed_positions;
  std::shared_ptr<LayerNorm> layernorm_embedding;
  std::vector<std::shared_ptr<BartEncoderLayer>> layers;
  BartEmbeddings embed;
};

struct BartDecoderCache {
  std::vector<KeyValueCache> self, cross;
};

class BartDecoder : public Module {
 public:
  BartDecoder(const BartConfig& config, std::shared_ptr<Embedding> shared, Generator& init, Generator* dropout_gen);
  // ids [B, T] int64, mask [B, T] or undefined (causal only, as HF when no decoder mask is given);
  // encoder_out [B, S, d], encoder_mask [B, S]. Returns h [B, T', d].
  Tensor forward(const Tensor& ids, const Tensor& mask, const Tensor& encoder_out, const Tensor& encoder_mask,
                 BartDecoderCache* cache = nullptr);

  std::shared_ptr<Embedding> embed_positions;
  std::shared_ptr<LayerNorm> layernorm_embedding;
  std::vector<std::shared_ptr<BartDecoderLayer>> layers;
  BartEmbeddings embed;
};

// BartModel: the shared embedding and both stacks.
class BartModel : public Module {
 public:
  BartModel(const BartConfig& config, Generator& init, Generator* dropout_gen);
  BartConfig config;
  std::shared_ptr<Embedding> shared;
  std::shared_ptr<BartEncoder> encoder;
  std::shared_ptr<BartDecoder> decoder;
};

class BartForConditionalGeneration : public Module, public StepModel {
 public:
  explicit BartForConditionalGeneration(const BartConfig& config, uint64_t init_seed = 0);

  // logits [B, T, V] of the decoder inputs given the encoder inputs (masks: 1 token, 0 padding).
  Tensor forward(const Tensor& input_ids, const Tensor& attention_mask, const Tensor& decoder_input_ids,
                 const Tensor& decoder_attention_mask = Tensor());
  // HF's seq2seq loss: mean cross-entropy of logits[:, t] against labels[:, t] over labels != -100.
  Tensor loss(const Tensor& logits, const Tensor& labels) const;
  // [start, y_0, ..., y_{n-2}] with -100 replaced by the pad id (transformers' shift_tokens_right).
  Tensor shift_tokens_right(const Tensor& labels) const;

  SiteMap sites();
  Generator& dropout_generator() { return dropout_gen_; }

  // ---- StepModel: the encoder runs once; cross keys/values are computed once and cached.
  Tensor start(const Tensor& input_ids, const Tensor& attention_mask) override;
  Tensor next(const Tensor& tokens) override;
  void select_rows(const Tensor& index) override;
  int64_t vocab_size() const override { return config().vocab_size; }
  int64_t eos_token_id() const override { return config().eos_token_id; }
  int64_t pad_token_id() const override { return config().pad_token_id; }
  int64_t decoder_start_token_id() const override { return config().decoder_start_token_id; }

  const BartConfig& config() const { return model->config; }
  std::shared_ptr<BartModel> model;
  // [1, V]: a buffer in transformers (not trained), zeros unless the checkpoint has it; registered
  // as a frozen parameter so that state dicts carry it.
  Tensor final_logits_bias;

 protected:
  void rebind_parameters() override { final_logits_bias = parameter("final_logits_bias"); }

 private:
  Tensor head(const Tensor& h) const;  // h shared^T + final_logits_bias
  Tensor decode_last(const Tensor& tokens);
  Generator dropout_gen_;
  BartDecoderCache cache_;
  Tensor encoder_out_, encoder_mask_;
};

}  // namespace petl::nn

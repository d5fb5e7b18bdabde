#include "nn/bart.h"

#include <cmath>
#include <string>

#include "tensor/kernels.h"

namespace petl::nn {

// ---- attention
BartAttention::BartAttention(int64_t d, int64_t heads, double attention_dropout, double init_std, Generator& init,
                             Generator* dropout_gen)
    : core(heads, 1.0 / std::sqrt(double(d / heads)), attention_dropout, dropout_gen) {
  // softmax(q k^T * d_h^-0.5) v: transformers 5 applies d_h^-0.5 to the scores (older versions to q)
  auto linear = [&] { return std::make_shared<Linear>(d, d, true, init_std, init, WeightLayout::OutIn); };
  k_proj = register_module("k_proj", linear());
  v_proj = register_module("v_proj", linear());
  q_proj = register_module("q_proj", linear());
  out_proj = register_module("out_proj", linear());
}

Tensor BartAttention::forward(const Tensor& x, const Tensor& source, const Tensor& key_mask, bool causal, bool cross,
                              KeyValueCache* cache) {
  const int64_t H = core.heads;
  const Tensor q = split_heads(q_proj->forward(x), H);  // [B, H, T, d_h]
  Tensor heads;
  if (cross && cache) {  // encoder keys/values: computed at the first step, reused after
    if (cache->empty()) {
      const Tensor mask = key_mask.defined() ? key_mask : ones({source.size(0), source.size(1)}, DType::F32, x.device());
      *cache = KeyValueCache{split_heads(k_proj->forward(source), H), split_heads(v_proj->forward(source), H), mask};
    }
    heads = core(q, cache->k, cache->v, cache->mask, causal, training());
  } else {
    const Tensor k = split_heads(k_proj->forward(source), H), v = split_heads(v_proj->forward(source), H);
    heads = core(q, k, v, key_mask, causal, training(), cache);
  }
  Tensor merged = merge_heads(heads);  // [B, T, d]
  if (!heads_site.empty()) merged = heads_site(x, merged);
  return out_proj->forward(merged);
}

Tensor bart_ffn(const Tensor& x, const Linear& fc1, const Linear& fc2, GeluApprox activation,
                double activation_dropout, bool training, Generator& gen) {
  return fc2.forward(dropout(fc1.forward_gelu(x, activation), activation_dropout, training, gen));
}

// ---- encoder layer
BartEncoderLayer::BartEncoderLayer(const BartConfig& c, Generator& init, Generator* dropout_gen)
    : config_(c), dropout_gen_(dropout_gen) {
  const int64_t d = c.d_model;
  self_attn = register_module("self_attn", std::make_shared<BartAttention>(d, c.encoder_attention_heads,
                                                                           c.attention_dropout, c.init_std, init, dropout_gen));
  self_attn_layer_norm = register_module("self_attn_layer_norm", std::make_shared<LayerNorm>(d));
  fc1 = register_module("fc1", std::make_shared<Linear>(d, c.encoder_ffn_dim, true, c.init_std, init, WeightLayout::OutIn));
  fc2 = register_module("fc2", std::make_shared<Linear>(c.encoder_ffn_dim, d, true, c.init_std, init, WeightLayout::OutIn));
  final_layer_norm = register_module("final_layer_norm", std::make_shared<LayerNorm>(d));
}

Tensor BartEncoderLayer::forward(const Tensor& x, const Tensor& mask) {
  Generator& gen = *dropout_gen_;
  Tensor A = dropout(self_attn->forward(x, x, mask, /*causal=*/false, /*cross=*/false), config_.dropout, training(), gen);
  if (!attn_site.empty()) A = attn_site(x, A, x);  // post-LN: the residual stream is the input
  const Tensor a = self_attn_layer_norm->forward_residual(x, A).y;  // post-LN
  Tensor F = dropout(bart_ffn(a, *fc1, *fc2, config_.activation(), config_.activation_dropout, training(), gen),
                     config_.dropout, training(), gen);
  if (!ffn_site.empty()) F = ffn_site(a, F, a);
  return final_layer_norm->forward_residual(a, F).y;
}

// ---- decoder layer
BartDecoderLayer::BartDecoderLayer(const BartConfig& c, Generator& init, Generator* dropout_gen)
    : config_(c), dropout_gen_(dropout_gen) {
  const int64_t d = c.d_model;
  self_attn = register_module("self_attn", std::make_shared<BartAttention>(d, c.decoder_attention_heads,
                                                                           c.attention_dropout, c.init_std, init, dropout_gen));
  self_attn_layer_norm = register_module("self_attn_layer_norm", std::make_shared<LayerNorm>(d));
  encoder_attn = register_module("encoder_attn", std::make_shared<BartAttention>(d, c.decoder_attention_heads,
                                                                                 c.attention_dropout, c.init_std, init, dropout_gen));
  encoder_attn_layer_norm = register_module("encoder_attn_layer_norm", std::make_shared<LayerNorm>(d));
  fc1 = register_module("fc1", std::make_shared<Linear>(d, c.decoder_ffn_dim, true, c.init_std, init, WeightLayout::OutIn));
  fc2 = register_module("fc2", std::make_shared<Linear>(c.decoder_ffn_dim, d, true, c.init_std, init, WeightLayout::OutIn));
  final_layer_norm = register_module("final_layer_norm", std::make_shared<LayerNorm>(d));
}

Tensor BartDecoderLayer::forward(const Tensor& x, const Tensor& self_mask, const Tensor& encoder_out,
                                 const Tensor& encoder_mask, KeyValueCache* self_cache, KeyValueCache* cross_cache) {
  Generator& gen = *dropout_gen_;
  Tensor A = dropout(self_attn->forward(x, x, self_mask, /*causal=*/true, /*cross=*/false, self_cache),
                     config_.dropout, training(), gen);
  if (!attn_site.empty()) A = attn_site(x, A, x);  // post-LN: the residual stream is the input
  const Tensor a = self_attn_layer_norm->forward_residual(x, A).y;
  Tensor C = dropout(encoder_attn->forward(a, encoder_out, encoder_mask, /*causal=*/false, /*cross=*/true, cross_cache),
                     config_.dropout, training(), gen);
  if (!cross_site.empty()) C = cross_site(a, C, a);
  const Tensor c = encoder_attn_layer_norm->forward_residual(a, C).y;
  Tensor F = dropout(bart_ffn(c, *fc1, *fc2, config_.activation(), config_.activation_dropout, training(), gen),
                     config_.dropout, training(), gen);
  if (!ffn_site.empty()) F = ffn_site(c, F, c);
  return final_layer_norm->forward_residual(c, F).y;
}

// ---- embeddings
BartEmbeddings::BartEmbeddings(const BartConfig& c, std::shared_ptr<Embedding> shared, std::shared_ptr<Embedding> positions,
                               std::shared_ptr<LayerNorm> layernorm, Generator* dropout_gen)
    : config_(c), shared_(std::move(shared)), positions_(std::move(positions)), layernorm_(std::move(layernorm)),
      dropout_gen_(dropout_gen) {}

EmbeddedTokens BartEmbeddings::forward(const Tensor& ids, const Tensor& mask, int64_t past, bool training) const {
  PETL_CHECK(ids.dim() == 2 && ids.dtype() == DType::I64, "BART: input ids must be int64 [B, T], got ",
             dtype_name(ids.dtype()), " ", shape_str(ids.shape()));
  EmbeddedTokens tokens{shared_->forward(ids), mask.defined() ? kernel::to(mask, DType::F32) : Tensor()};  // [B, T, d]
  if (config_.scale_embedding) tokens.embeds = tokens.embeds * config_.embed_scale();
  if (!site.empty()) {
    if (!tokens.mask.defined()) tokens.mask = ones({ids.size(0), ids.size(1)}, DType::F32, ids.device());
    tokens = site(tokens);
  }
  const int64_t T = tokens.embeds.size(1);
  const int64_t first = past + position_shift;
  PETL_CHECK(first + T <= config_.max_position_embeddings, "BART: ", first + T,
             " positions exceed max_position_embeddings ", config_.max_position_embeddings);
  const Tensor positions = arange(first + BartConfig::kPositionOffset, first + T + BartConfig::kPositionOffset, 1,
                                  DType::I64, ids.device());  // [T]
  const Tensor h = layernorm_->forward(tokens.embeds + positions_->forward(positions));
  return {dropout(h, config_.dropout, training, *dropout_gen_), tokens.mask};
}

// ---- stacks
BartEncoder::BartEncoder(const BartConfig& c, std::shared_ptr<Embedding> shared, Generator& init, Generator* dropout_gen)
    : embed_positions(register_module("embed_positions", std::make_shared<Embedding>(
                                                              c.max_position_embeddings + BartConfig::kPositionOffset,
                                                              c.d_model, c.init_std, init))),
      layernorm_embedding(register_module("layernorm_embedding", std::make_shared<LayerNorm>(c.d_model))),
      embed(c, std::move(shared), embed_positions, layernorm_embedding, dropout_gen) {
  for (int64_t i = 0; i < c.encoder_layers; ++i)
    layers.push_back(register_module("layers." + std::to_string(i), std::make_shared<BartEncoderLayer>(c, init, dropout_gen)));
}

EmbeddedTokens BartEncoder::forward(const Tensor& ids, const Tensor& mask) {
  EmbeddedTokens e = embed.forward(ids, mask, 0, training());  // [B, S, d]
  for (auto& layer : layers) e.embeds = layer->forward(e.embeds, e.mask);
  return e;
}

BartDecoder::BartDecoder(const BartConfig& c, std::shared_ptr<Embedding> shared, Generator& init, Generator* dropout_gen)
    : embed_positions(register_module("embed_positions", std::make_shared<Embedding>(
                                                              c.max_position_embeddings + BartConfig::kPositionOffset,
                                                              c.d_model, c.init_std, init))),
      layernorm_embedding(register_module("layernorm_embedding", std::make_shared<LayerNorm>(c.d_model))),
      embed(c, std::move(shared), embed_positions, layernorm_embedding, dropout_gen) {
  for (int64_t i = 0; i < c.decoder_layers; ++i)
    layers.push_back(register_module("layers." + std::to_string(i), std::make_shared<BartDecoderLayer>(c, init, dropout_gen)));
}

Tensor BartDecoder::forward(const Tensor& ids, const Tensor& mask, const Tensor& encoder_out,
                            const Tensor& encoder_mask, BartDecoderCache* cache) {
  const int64_t past = cache && !cache->self.empty() ? cache->self[0].length() : 0;
  EmbeddedTokens h = embed.forward(ids, mask, past, training());  // [B, T, d]
  for (size_t i = 0; i < layers.size(); ++i)
    h.embeds = layers[i]->forward(h.embeds, h.mask, encoder_out, encoder_mask, cache ? &cache->self[i] : nullptr,
                                  cache ? &cache->cross[i] : nullptr);
  return h.embeds;
}

BartModel::BartModel(const BartConfig& c, Generator& init, Generator* dropout_gen) : config(c) {
  c.validate("BartModel");
  shared = register_module("shared", std::make_shared<Embedding>(c.vocab_size, c.d_model, c.init_std, init));
  encoder = register_module("encoder", std::make_shared<BartEncoder>(c, shared, init, dropout_gen));
  decoder = register_module("decoder", std::make_shared<BartDecoder>(c, shared, init, dropout_gen));
}

// ---- conditional generation head
BartForConditionalGeneration::BartForConditionalGeneration(const BartConfig& c, uint64_t init_seed)
    : dropout_gen_(init_seed + 1) {
  Generator init(init_seed);
  model = register_module("model", std::make_shared<BartModel>(c, init, &dropout_gen_));
  // a buffer in transformers: saved and loaded with the weights, never trained
  final_logits_bias = register_parameter("final_logits_bias", zeros({1, c.vocab_size}));
  final_logits_bias.set_requires_grad(false);
}

Tensor BartForConditionalGeneration::head(const Tensor& h) const {
  return matmul(h, transpose(model->shared->weight, 0, 1)) + final_logits_bias;  // [B, T, V]
}

Tensor BartForConditionalGeneration::forward(const Tensor& input_ids, const Tensor& attention_mask,
                                             const Tensor& decoder_input_ids, const Tensor& decoder_attention_mask) {
  const EmbeddedTokens e = model->encoder->forward(input_ids, attention_mask);  // [B, S, d]
  return head(model->decoder->forward(decoder_input_ids, decoder_attention_mask, e.embeds, e.mask));
}

Tensor BartForConditionalGeneration::loss(const Tensor& logits, const Tensor& labels) const {
  PETL_CHECK(labels.dim() == 2 && labels.dtype() == DType::I64 && labels.size(1) == logits.size(1),
             "BartForConditionalGeneration::loss: labels must be int64 [B, ", logits.size(1), "], got ",
             dtype_name(labels.dtype()), " ", shape_str(labels.shape()));
  return cross_entropy(reshape(logits, {-1, logits.size(2)}), reshape(labels, {-1}), -100);
}

Tensor BartForConditionalGeneration::shift_tokens_right(const Tensor& labels) const {
  const int64_t B = labels.size(0), T = labels.size(1);
  const std::vector<double> y = labels.to_vector();
  std::vector<int64_t> shifted(size_t(B * T));
  for (int64_t b = 0; b < B; ++b) {
    shifted[size_t(b * T)] = config().decoder_start_token_id;
    for (int64_t t = 1; t < T; ++t) {
      const int64_t v = int64_t(y[size_t(b * T + t - 1)]);
      shifted[size_t(b * T + t)] = v == -100 ? config().pad_token_id : v;
    }
  }
  return from_vector(shifted, {B, T}, labels.device());
}

SiteMap BartForConditionalGeneration::sites() {
  SiteMap map;
  map.embeddings.emplace_back("model.encoder.embed_tokens", &model->encoder->embed.site);
  map.embeddings.emplace_back("model.decoder.embed_tokens", &model->decoder->embed.site);
  auto attention = [&](const std::string& p, BartAttention& a) {
    map.sublayers.emplace_back(p + ".heads", &a.heads_site);
    map.key_values.emplace_back(p, &a.core.key_values);
    map.linears.emplace_back(p + ".q_proj", &a.q_proj->site);
    map.linears.emplace_back(p + ".k_proj", &a.k_proj->site);
    map.linears.emplace_back(p + ".v_proj", &a.v_proj->site);
    map.linears.emplace_back(p + ".out_proj", &a.out_proj->site);
  };
  for (size_t i = 0; i < model->encoder->layers.size(); ++i) {
    BartEncoderLayer& l = *model->encoder->layers[i];
    const std::string p = "model.encoder.layers." + std::to_string(i);
    map.sublayers.emplace_back(p + ".self_attn", &l.attn_site);
    map.sublayers.emplace_back(p + ".ffn", &l.ffn_site);
    attention(p + ".self_attn", *l.self_attn);
    map.linears.emplace_back(p + ".fc1", &l.fc1->site);
    map.linears.emplace_back(p + ".fc2", &l.fc2->site);
  }
  for (size_t i = 0; i < model->decoder->layers.size(); ++i) {
    BartDecoderLayer& l = *model->decoder->layers[i];
    const std::string p = "model.decoder.layers." + std::to_string(i);
    map.sublayers.emplace_back(p + ".self_attn", &l.attn_site);
    map.sublayers.emplace_back(p + ".encoder_attn", &l.cross_site);
    map.sublayers.emplace_back(p + ".ffn", &l.ffn_site);
    attention(p + ".self_attn", *l.self_attn);
    attention(p + ".encoder_attn", *l.encoder_attn);
    map.linears.emplace_back(p + ".fc1", &l.fc1->site);
    map.linears.emplace_back(p + ".fc2", &l.fc2->site);
  }
  return map;
}

// ---- decoding
Tensor BartForConditionalGeneration::decode_last(const Tensor& tokens) {
  const int64_t B = tokens.numel();
  const Tensor h = model->decoder->forward(reshape(tokens, {B, 1}), Tensor(), encoder_out_, encoder_mask_, &cache_);
  return reshape(head(h), {B, config().vocab_size});  // [B, V]
}

Tensor BartForConditionalGeneration::start(const Tensor& input_ids, const Tensor& attention_mask) {
  const EmbeddedTokens e = model->encoder->forward(input_ids, attention_mask);
  encoder_out_ = e.embeds;
  encoder_mask_ = e.mask;
  const size_t L = model->decoder->layers.size();
  cache_ = BartDecoderCache{std::vector<KeyValueCache>(L), std::vector<KeyValueCache>(L)};
  const int64_t B = input_ids.size(0);
  return decode_last(full({B}, double(config().decoder_start_token_id), DType::I64, input_ids.device()));
}

Tensor BartForConditionalGeneration::next(const Tensor& tokens) {
  PETL_CHECK(!cache_.self.empty() && !cache_.self[0].empty(), "BartForConditionalGeneration::next: call start() first");
  PETL_CHECK(tokens.numel() == cache_.self[0].k.size(0), "BartForConditionalGeneration::next: ", tokens.numel(),
             " tokens for ", cache_.self[0].k.size(0), " rows");
  return decode_last(tokens);
}

void BartForConditionalGeneration::select_rows(const Tensor& index) {
  for (KeyValueCache& c : cache_.self) c.select_rows(index);
  for (KeyValueCache& c : cache_.cross) c.select_rows(index);
  encoder_out_ = Tensor();  // every cross cache is filled after start(); the encoder output is no longer needed
  encoder_mask_ = Tensor();
}

}  // namespace petl::nn

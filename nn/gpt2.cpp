#include "nn/gpt2.h"

#include <cmath>
#include <string>

#include "tensor/kernels.h"

namespace petl::nn {

namespace {
// Positions past_len ... past_len + T - 1, one row shared by the batch: [1, T].
Tensor default_positions(int64_t past_len, int64_t T, Device device) {
  return reshape(arange(past_len, past_len + T, 1, DType::I64, device), {1, T});
}

// An embedding hook added P rows in front: they take positions 0..P-1 and the given ones move by P
// (what cumsum(mask) - 1 gives over the extended mask).
Tensor positions_with_prefix(const Tensor& position_ids, int64_t added, Device device) {
  const int64_t B = position_ids.size(0);
  std::vector<int64_t> shifted;
  const std::vector<double> given = position_ids.to_vector();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t p = 0; p < added; ++p) shifted.push_back(p);
    for (int64_t t = 0; t < position_ids.size(1); ++t) shifted.push_back(int64_t(given[size_t(b * position_ids.size(1) + t)]) + added);
  }
  return from_vector(shifted, {B, position_ids.size(1) + added}, device);
}
}  // namespace

// ---- attention
Gpt2Attention::Gpt2Attention(const Gpt2Config& c, int64_t layer_index, Generator& init, Generator* dropout_gen)
    : core(c.n_head,
           // scores q k^T / sqrt(d_h) (scale_attn_weights), further / (layer + 1) when configured
           (c.scale_attn_weights ? 1.0 / std::sqrt(double(c.n_embd / c.n_head)) : 1.0) /
               (c.scale_attn_by_inverse_layer_idx ? double(layer_index + 1) : 1.0),
           c.attn_pdrop, dropout_gen),
      resid_pdrop_(c.resid_pdrop),
      dropout_gen_(dropout_gen) {
  c_attn = register_module("c_attn", std::make_shared<Linear>(c.n_embd, 3 * c.n_embd, true, c.initializer_range, init));
  c_proj = register_module("c_proj", std::make_shared<Linear>(c.n_embd, c.n_embd, true, c.initializer_range, init));
}

Tensor Gpt2Attention::forward(const Tensor& u, const Tensor& key_mask, KeyValueCache* cache) {
  const int64_t d = u.size(2), H = core.heads;
  std::vector<Tensor> qkv = split(c_attn->forward(u), {d, d, d}, 2);        // 3 x [B, T, d]
  Tensor q = split_heads(qkv[0], H), k = split_heads(qkv[1], H), v = split_heads(qkv[2], H);  // [B, H, T, d_h]
  Tensor heads = merge_heads(core(q, k, v, key_mask, /*causal=*/true, training(), cache));  // [B, T, d]
  if (!heads_site.empty()) heads = heads_site(u, heads);
  return dropout(c_proj->forward(heads), resid_pdrop_, training(), *dropout_gen_);
}

// ---- MLP
Gpt2Mlp::Gpt2Mlp(const Gpt2Config& c, Generator& init) : activation(c.activation()) {
  c_fc = register_module("c_fc", std::make_shared<Linear>(c.n_embd, c.ffn_width(), true, c.initializer_range, init));
  c_proj = register_module("c_proj", std::make_shared<Linear>(c.ffn_width(), c.n_embd, true, c.initializer_range, init));
}

Tensor Gpt2Mlp::forward(const Tensor& w) const { return c_proj->forward(gelu(c_fc->forward(w), activation)); }

// ---- block
Gpt2Block::Gpt2Block(const Gpt2Config& c, int64_t layer_index, Generator& init, Generator* dropout_gen)
    : resid_pdrop_(c.resid_pdrop), dropout_gen_(dropout_gen) {
  ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(c.n_embd, c.layer_norm_epsilon));
  attn = register_module("attn", std::make_shared<Gpt2Attention>(c, layer_index, init, dropout_gen));
  ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(c.n_embd, c.layer_norm_epsilon));
  mlp = register_module("mlp", std::make_shared<Gpt2Mlp>(c, init));
}

Tensor Gpt2Block::forward(const Tensor& h, const Tensor& key_mask, KeyValueCache* cache) {
  const Tensor u = ln_1->forward(h);                                          // attention input  [B, T, d]
  Tensor A = attn->forward(u, key_mask, cache);                               // attention output [B, T, d]
  if (!attn_site.empty()) A = attn_site(u, A, h);
  const Tensor a = h + A;                                                     // residual stream
  const Tensor w = ln_2->forward(a);                                          // FFN input
  Tensor F = dropout(mlp->forward(w), resid_pdrop_, training(), *dropout_gen_);  // FFN output [B, T, d]
  if (!mlp_site.empty()) F = mlp_site(w, F, a);
  return a + F;
}

// ---- body
Gpt2Model::Gpt2Model(const Gpt2Config& c, Generator& init, Generator* dropout_gen)
    : config(c), dropout_gen_(dropout_gen) {
  c.validate("Gpt2Model");
  wte = register_module("wte", std::make_shared<Embedding>(c.vocab_size, c.n_embd, c.initializer_range, init));
  wpe = register_module("wpe", std::make_shared<Embedding>(c.n_positions, c.n_embd, c.initializer_range, init));
  for (int64_t i = 0; i < c.n_layer; ++i)
    h.push_back(register_module("h." + std::to_string(i), std::make_shared<Gpt2Block>(c, i, init, dropout_gen)));
  ln_f = register_module("ln_f", std::make_shared<LayerNorm>(c.n_embd, c.layer_norm_epsilon));
}

Tensor Gpt2Model::forward(const Tensor& ids, const Tensor& mask, const Tensor& position_ids,
                          std::vector<KeyValueCache>* caches) {
  PETL_CHECK(ids.dim() == 2 && ids.dtype() == DType::I64, "Gpt2Model: input_ids must be int64 [B, T], got ",
             dtype_name(ids.dtype()), " ", shape_str(ids.shape()));
  PETL_CHECK(!caches || int64_t(caches->size()) == config.n_layer, "Gpt2Model: expected ", config.n_layer,
             " caches, got ", caches ? caches->size() : 0);
  const int64_t T = ids.size(1);
  EmbeddedTokens tokens{wte->forward(ids), mask.defined() ? kernel::to(mask, DType::F32) : Tensor()};  // [B, T, d]
  const int64_t past = caches ? (*caches)[0].length() : 0;
  // Rows an embedding hook puts in front belong to the start of the sequence: a decoding step that
  // continues a cached sequence has them in its past already.
  if (!embedding_site.empty() && past == 0) {
    if (!tokens.mask.defined()) tokens.mask = ones({ids.size(0), T}, DType::F32, ids.device());
    tokens = embedding_site(tokens);
  }
  const int64_t T_all = tokens.embeds.size(1), added = T_all - T;
  Tensor positions = !position_ids.defined() ? default_positions(past, T_all, ids.device())
                     : added == 0            ? position_ids
                                             : positions_with_prefix(position_ids, added, ids.device());
  for (double p : positions.to_vector())
    PETL_CHECK(p >= 0 && p < double(config.n_positions), "Gpt2Model: position ", p, " is outside [0, ",
               config.n_positions, ") (n_positions); the sequence is too long or position_ids is wrong");
  Tensor hidden = dropout(tokens.embeds + wpe->forward(positions), config.embd_pdrop, training(), *dropout_gen_);
  for (size_t i = 0; i < h.size(); ++i) hidden = h[i]->forward(hidden, tokens.mask, caches ? &(*caches)[i] : nullptr);
  return ln_f->forward(hidden);
}

// ---- LM head
Gpt2LMHead::Gpt2LMHead(const Gpt2Config& c, uint64_t init_seed) : dropout_gen_(init_seed + 1) {
  Generator init(init_seed);
  transformer = register_module("transformer", std::make_shared<Gpt2Model>(c, init, &dropout_gen_));
}

Tensor Gpt2LMHead::forward(const Tensor& ids, const Tensor& mask, const Tensor& position_ids) {
  const Tensor h = transformer->forward(ids, mask, position_ids);  // [B, T, d]
  return matmul(h, transpose(transformer->wte->weight, 0, 1));    // [B, T, V], tied to wte
}

Tensor Gpt2LMHead::loss(const Tensor& logits, const Tensor& labels) const {
  const int64_t T = logits.size(1), V = logits.size(2);
  PETL_CHECK(labels.dim() == 2 && labels.size(1) == T && labels.dtype() == DType::I64,
             "Gpt2LMHead::loss: labels must be int64 [B, ", T, "], got ", dtype_name(labels.dtype()), " ",
             shape_str(labels.shape()));
  // logits at t predict the label at t + 1. The labels are shifted left instead of the logits cut
  // at T - 1 (the last position gets the ignored label -100): the logits then enter the loss as a
  // view, without a copy of [B, T - 1, V], and the loss's gradient can take their place
  // (autograd/cross_entropy.cpp). The rows and their mean are the same.
  const int64_t B = labels.size(0);
  const Tensor next_labels = kernel::concat(
      {kernel::slice(labels, 1, 1, T), full({B, 1}, -100.0, DType::I64, labels.device())}, 1);  // [B, T]
  return cross_entropy(reshape(logits, {-1, V}), reshape(next_labels, {-1}), -100);
}

SiteMap Gpt2LMHead::sites() {
  SiteMap map;
  map.embeddings.emplace_back("transformer.wte", &transformer->embedding_site);
  for (size_t i = 0; i < transformer->h.size(); ++i) {
    Gpt2Block& block = *transformer->h[i];
    const std::string p = "transformer.h." + std::to_string(i);
    map.sublayers.emplace_back(p + ".attn", &block.attn_site);
    map.sublayers.emplace_back(p + ".attn.heads", &block.attn->heads_site);
    map.sublayers.emplace_back(p + ".mlp", &block.mlp_site);
    map.key_values.emplace_back(p + ".attn", &block.attn->core.key_values);
    map.linears.emplace_back(p + ".attn.c_attn", &block.attn->c_attn->site);
    map.linears.emplace_back(p + ".attn.c_proj", &block.attn->c_proj->site);
    map.linears.emplace_back(p + ".mlp.c_fc", &block.mlp->c_fc->site);
    map.linears.emplace_back(p + ".mlp.c_proj", &block.mlp->c_proj->site);
  }
  return map;
}

// ---- decoding
Tensor Gpt2LMHead::last_logits(const Tensor& ids, const Tensor& mask, const Tensor& positions) {
  const Tensor h = transformer->forward(ids, mask, positions, &caches_);       // [B, T, d]
  const Tensor last = reshape(slice(h, 1, h.size(1) - 1, h.size(1)), {h.size(0), h.size(2)});  // [B, d]
  return matmul(last, transpose(transformer->wte->weight, 0, 1));             // [B, V]
}

Tensor Gpt2LMHead::start(const Tensor& input_ids, const Tensor& attention_mask) {
  PETL_CHECK(input_ids.dim() == 2 && attention_mask.shape() == input_ids.shape(),
             "Gpt2LMHead::start: input_ids ", shape_str(input_ids.shape()), " and attention_mask ",
             shape_str(attention_mask.shape()), " must both be [B, T]");
  caches_.assign(size_t(config().n_layer), KeyValueCache{});
  // positions = cumsum(mask) - 1 (padding gets 1, as transformers' prepare_inputs_for_generation)
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  const std::vector<double> m = attention_mask.to_vector();
  std::vector<int64_t> positions(size_t(B * T));
  for (int64_t b = 0; b < B; ++b) {
    int64_t seen = 0;
    for (int64_t t = 0; t < T; ++t) {
      const bool token = m[size_t(b * T + t)] != 0.0;
      seen += token;
      positions[size_t(b * T + t)] = token ? seen - 1 : 1;
    }
  }
  return last_logits(input_ids, attention_mask, from_vector(positions, {B, T}, input_ids.device()));
}

Tensor Gpt2LMHead::next(const Tensor& tokens) {
  PETL_CHECK(!caches_.empty() && !caches_[0].empty(), "Gpt2LMHead::next: call start() first");
  const int64_t B = tokens.numel();
  PETL_CHECK(B == caches_[0].k.size(0), "Gpt2LMHead::next: ", B, " tokens for ", caches_[0].k.size(0), " rows");
  // The new token's position is the number of real tokens before it: the sum of the cached mask.
  const Tensor position = kernel::to(sum(caches_[0].mask, {1}, true), DType::I64);  // [B, 1]
  return last_logits(reshape(tokens, {B, 1}), ones({B, 1}, DType::F32, tokens.device()), position);
}

void Gpt2LMHead::select_rows(const Tensor& index) {
  for (KeyValueCache& cache : caches_) cache.select_rows(index);
}

}  // namespace petl::nn

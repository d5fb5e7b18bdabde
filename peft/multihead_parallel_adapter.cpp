#include "peft/multihead_parallel_adapter.h"

#include "nn/attention.h"
#include "tensor/error.h"

namespace petl::peft {

namespace {
// The frozen query projection of the attention at `attention` (GPT-2: the first d output columns of
// the fused c_attn; BART: q_proj).
LinearTarget query_projection(const nn::Module& model, const nn::SiteMap& sites, const std::string& attention) {
  for (const char* name : {".q_proj", ".c_attn"})
    for (const auto& entry : sites.linears)
      if (entry.first == attention + name) return linear_targets(model, sites, {entry.first}).front();
  throw Error("MultiheadParallelAdapters: attention '" + attention + "' has no query projection (looked for '" +
              attention + ".q_proj' and '" + attention + ".c_attn')");
}
}  // namespace

MultiheadParallelAdapter::MultiheadParallelAdapter(const LinearTarget& query, int64_t heads_, double dropout,
                                                   MultiheadParallelAdapters* owner, int64_t layer)
    : heads(heads_), dropout_p(dropout), owner_(owner), layer_(layer) {
  const int64_t d = query.in;
  PETL_CHECK(heads > 0 && d % heads == 0, "MultiheadParallelAdapter: ", heads, " heads do not divide the width ", d);
  PETL_CHECK(query.out == d || query.out == 3 * d, "MultiheadParallelAdapter: query projection '", query.name,
             "' maps ", d, " to ", query.out, " features; expected ", d, " (q) or ", 3 * d, " (fused q|k|v)");
  layer_norm = register_module("layer_norm", std::make_shared<nn::LayerNorm>(d));
  query_weight = slice(query.math_weight(), 1, 0, d);  // W_q, the q block of a fused q|k|v
  if (query.bias.defined()) query_bias = slice(query.bias, 0, 0, d);
}

Tensor MultiheadParallelAdapter::delta(const Tensor& x, const Tensor& k, const Tensor& v) {
  Tensor q = matmul(layer_norm->forward(x), query_weight);  // q~ = LN_ef(x) W_q + b_q
  if (query_bias.defined()) q = q + query_bias;
  const Tensor weights = relu(matmul(nn::split_heads(q, heads), transpose(k, 2, 3)));  // [B, N_h, T, r]
  const Tensor dropped = dropout(weights, dropout_p, training(), dropout_generator);
  return nn::merge_heads(matmul(dropped, v));  // Σ over the r rows of P_v^(j), heads concatenated [B, T, d]
}

Tensor MultiheadParallelAdapter::apply(const Tensor& x, const Tensor& h) {
  PETL_CHECK(owner_, "MultiheadParallelAdapter: a free-standing adapter has no prefix rows to attach with");
  const nn::KeyValueRows rows = owner_->prefix->layer_rows(owner_->table_for(layer_), layer_);
  return h + delta(x, rows.k, rows.v);  // head_j <- head_j + Δ_j
}

MultiheadParallelAdapters::MultiheadParallelAdapters(nn::Module& model, nn::SiteMap& sites, int64_t heads_,
                                                     MultiheadParallelOptions options_, uint64_t seed)
    : options(std::move(options_)), heads(heads_), gen_(seed) {
  const auto selected = select_sites(sites.sublayers, options.sites);
  std::vector<LinearTarget> queries;
  for (const auto& [name, site] : selected) {
    PETL_CHECK(name.ends_with(".heads"), "MultiheadParallelAdapters: site '", name,
               "' is not a merged-heads site (a multi-head adapter acts on the heads before W_o)");
    queries.push_back(query_projection(model, sites, name.substr(0, name.size() - 6)));
  }
  PETL_CHECK(!queries.empty(), "MultiheadParallelAdapters: no sublayer site matches [", join_patterns(options.sites),
             "]");
  const int64_t d = queries.front().in;
  prefix = register_module(
      "prefix", std::make_shared<PrefixTuning>(int64_t(queries.size()), heads, d,
                                               PrefixTuningOptions{options.rows, options.projection, options.hidden}, gen_));
  model.set_trainable(false);
  for (size_t i = 0; i < selected.size(); ++i) {
    const std::string name = selected[i].first.substr(0, selected[i].first.size() - 6) + "_mh_adapter";
    auto adapter = register_module(name, std::make_shared<MultiheadParallelAdapter>(queries[i], heads, options.dropout, this, int64_t(i)));
    selected[i].second->attach(adapter);
    adapters.emplace_back(name, adapter);
    attached_.emplace_back(selected[i].second, adapter.get());
  }
}

Tensor MultiheadParallelAdapters::table_for(int64_t layer) {
  // the attentions run in order within a forward: the first evaluates R, the others reuse it
  if (layer == 0 || !current_table_.defined()) current_table_ = prefix->table();
  return current_table_;
}

void MultiheadParallelAdapters::detach() {
  for (auto& [site, adapter] : attached_) site->detach(adapter);
  attached_.clear();
  current_table_ = Tensor();
}

}  // namespace petl::peft

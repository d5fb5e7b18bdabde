// Prefix tuning (Li & Liang 2021; shared/PEFT.md §3): every attention layer i attends to P extra
// key and value rows per head that no token computes,
//
//   head_j = softmax(q_j [P_k,i^(j); K_j]^T / sqrt(d_h) + [0; M]) [P_v,i^(j); V_j]
//
// The rows come from one table R in R^{P x 2Ld}, row layout view(P, 2L, N_h, d_h) with index
// [p, 2i + c, j, t] (c = 0 key, c = 1 value), the layout of [PT], [UV], [AH] and [PEFT] alike.
// Train time (PEFT.md §3.2) R is reparameterized by an MLP over a P x d embedding E:
//
//   R = tanh(E W1 + b1) W2 + b2          W1: d x k, W2: k x 2Ld   ("prefix_projection")
//
// or R is itself the trained table ("flat"; peft's default, N(0,1) init). After training only R is
// kept: folded() evaluates it once into a flat PrefixTuning (§3.3), which is what peft saves as
// `prompt_embeddings` (§3.8) and what save_peft/load_peft write and read.
//
// Unified View (PEFT.md §13): Δh = λ(x) · softmax(x W_q P_k^T) P_v, composed by gated addition to
// the attention output, at the attention's keys/values.
//
// GPT-2 positions: peft (and [PT]) pass the prefix as a past of length P, so the real tokens take
// positions P .. P+T-1; give the model `positions(B, T)` as position_ids for that behaviour, or
// leave them default (0 .. T-1, AdapterHub's behaviour).
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"

namespace petl::peft {

struct PrefixTuningOptions {
  int64_t length = 5;        // P, "num_virtual_tokens" / "preseqlen"
  bool projection = true;    // the MLP reparameterization of §3.2
  int64_t hidden = 512;      // k, "mid_dim" / "encoder_hidden_size"
};

class PrefixTuning : public nn::Module {
 public:
  // For a model with `layers` attention layers of `heads` heads and width `d`. Init: E ~ N(0, 1)
  // (nn.Embedding default), W1, b1, W2, b2 torch's nn.Linear default U(-1/sqrt(in), 1/sqrt(in));
  // flat: R ~ N(0, 1) (peft).
  PrefixTuning(int64_t layers, int64_t heads, int64_t d, PrefixTuningOptions options, Generator& gen);
  // A flat prefix holding the given table R [P, 2Ld].
  PrefixTuning(int64_t layers, int64_t heads, const Tensor& table);

  // R [P, 2Ld]: the MLP's output, or the flat table.
  Tensor table() const;
  // Layer i's rows: k, v of shape [1, N_h, P, d_h].
  nn::KeyValueRows layer_rows(const Tensor& table, int64_t layer) const;
  // A flat PrefixTuning holding R evaluated now (no graph): what is kept after training.
  std::shared_ptr<PrefixTuning> folded() const;

  // Attach one key/value hook per attention of `sites` (in order: layer 0, 1, ...), and freeze
  // `base` (prefix tuning trains only its own parameters). The PrefixTuning must outlive the
  // attachment; detach() removes the hooks.
  void attach(nn::SiteMap& sites, const nn::Module& base);
  // The same for chosen sites: sites[n] gets the rows of layer slots[n] of R (BART's placements,
  // peft/bart_prefix.h). The first site of the list evaluates R for the forward, the others reuse it.
  void attach_to(const std::vector<nn::KeyValueSite*>& sites, const std::vector<int64_t>& slots, const nn::Module& base);
  void detach();
  // GPT-2 position ids with the prefix counted as a past: P .. P+T-1 for every row, [B, T].
  Tensor positions(int64_t batch, int64_t tokens) const;

  // peft's format (PEFT.md §3.8): adapter_config.json (peft_type PREFIX_TUNING, task CAUSAL_LM, or
  // SEQ_2_SEQ_LM with num_transformer_submodules 2 for BART) and adapter_model.safetensors holding
  // `prompt_embeddings` = R. save_peft writes the folded table.
  void save_peft(const std::filesystem::path& dir, const std::string& base_model = "",
                 const std::string& task_type = "CAUSAL_LM") const;
  // Reads a peft prefix directory for a model of this shape; errors name the file and the field.
  static std::shared_ptr<PrefixTuning> load_peft(const std::filesystem::path& dir, int64_t layers, int64_t heads,
                                                 int64_t d);

  const int64_t layers, heads, width, length;
  const bool projection;
  std::shared_ptr<nn::Embedding> embedding;            // E [P, d], or R [P, 2Ld] when flat
  std::shared_ptr<nn::Linear> transform0, transform2;  // peft's "transform.0", "transform.2"

 private:
  struct LayerHook;
  std::vector<std::pair<nn::KeyValueSite*, std::shared_ptr<LayerHook>>> attached_;
  mutable Tensor current_table_;  // R of the current forward, computed at layer 0, reused by the rest
};

}  // namespace petl::peft

// Prompt tuning (Lester et al. 2021; shared/PEFT.md §4): P trainable vectors E in R^{P x d} are
// put in front of the token embeddings of the first layer only,
//
//   embeds <- [E ; wte(ids)],   mask <- [1 ... 1 ; mask],   labels <- [-100 ... -100 ; labels]
//
// GPT-2 then adds positions 0 .. P+T-1 (peft's "shift": the prompt takes 0 .. P-1, the text moves
// to P ..), which nn/gpt2.cpp does for rows an embedding hook prepends. The logits have P + T rows.
//
// Unified View (PEFT.md §13): prompt tuning is prefix tuning restricted to the first layer's input
// (the rows become keys/values through the frozen projections).
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "nn/layers.h"
#include "nn/module.h"
#include "nn/sites.h"

namespace petl::peft {

class PromptTuning : public nn::Module, public nn::EmbeddingHook {
 public:
  // E ~ N(0, 1): peft's prompt_tuning_init "RANDOM" (nn.Embedding default).
  PromptTuning(int64_t length, int64_t d, Generator& gen);
  // E = rows `ids` of the embedding table `wte` [V, d], repeated / truncated to `length`
  // (peft's "TEXT" init with the tokenized init text; Lester's vocabulary init).
  void init_from_tokens(const Tensor& wte, const std::vector<int64_t>& ids);

  nn::EmbeddedTokens apply(nn::EmbeddedTokens tokens) override;
  // labels [B, T] -> [B, P + T] with P leading -100 (ignored by the loss).
  Tensor extend_labels(const Tensor& labels) const;

  // Attach at the model's (single) token-embedding site and freeze `base`.
  void attach(nn::SiteMap& sites, const nn::Module& base);
  void detach();

  // peft's format: adapter_config.json (PROMPT_TUNING, CAUSAL_LM) + adapter_model.safetensors with
  // prompt_embeddings [P, d]. SEQ_2_SEQ_LM (BART: the prompt goes in front of the encoder's input only)
  // has num_transformer_submodules 2 and a [2P, d] table of which peft's prompt tuning reads rows
  // 0 .. P-1; rows P .. 2P-1 are written as a copy of E (peft's own file keeps their unused init there).
  void save_peft(const std::filesystem::path& dir, int64_t layers, int64_t heads, const std::string& base_model = "",
                 const std::string& task_type = "CAUSAL_LM") const;
  static std::shared_ptr<PromptTuning> load_peft(const std::filesystem::path& dir, int64_t d);

  const int64_t length, width;
  std::shared_ptr<nn::Embedding> embedding;  // E [P, d], peft's "embedding.weight"

 private:
  nn::EmbeddingSite* site_ = nullptr;
};

}  // namespace petl::peft

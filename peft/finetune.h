// The baselines (shared/PEFT.md §1).
//   Full fine-tuning: every parameter trains. GPT-2's LM head is tied to wte, so the embedding's
//   gradient sums the input-embedding and output-projection parts (the model does this by sharing
//   one tensor).
//   FT-top-k (Li & Liang's `tuning_mode finetune-top`, [PT] gpt2/run_language_modeling.py): only the
//   last k transformer blocks, the final LayerNorm and (on by default, as [PT] does) the tied
//   embedding wte train: top_layers=2 on GPT-2 medium = transformer.h.22.*, h.23.*, ln_f.*, wte.
// Unified View: no Δh at all -- the weights themselves move.
#pragma once
#include <string>
#include <vector>

#include "nn/gpt2.h"
#include "nn/module.h"

namespace petl::peft {

// Unfreezes every parameter; returns their count.
int64_t apply_full_finetune(const nn::Module& model);

// Freezes GPT-2, then unfreezes the last `k` blocks, ln_f and (if `with_embedding`) wte; returns the
// names that train. k must be in [1, n_layer].
std::vector<std::string> apply_finetune_top_k(const nn::Gpt2LMHead& model, int64_t k, bool with_embedding = true);

}  // namespace petl::peft

// BitFit (Ben Zaken et al. 2021; shared/PEFT.md §10): train only the bias vectors, every b in
// x W + b and every LayerNorm β; all W, γ and embeddings stay frozen.
// Unified View row (PEFT.md §13): Δh = Δb at every linear / LayerNorm output, input-independent,
// composed by addition. Init: the pretrained biases (no new tensors); merge: already merged.
// Which tensors: [BF] selects every parameter whose name contains "bias". GPT-2's causal-mask
// buffers (attn.bias, attn.masked_bias) are not parameters in petl; BART's final_logits_bias is a
// registered but frozen constant in transformers (a buffer) and stays frozen here.
// Count: 11·d·L + d on GPT-2 (c_attn 3d, attn.c_proj d, ln_1 d, ln_2 d, c_fc 4d, mlp.c_proj d; ln_f).
#pragma once
#include <string>
#include <vector>

#include "nn/module.h"

namespace petl::peft {

// Freezes `model` and unfreezes its biases; returns their names.
std::vector<std::string> apply_bitfit(const nn::Module& model);

}  // namespace petl::peft

// GPT-2's config.json (transformers GPT2Config), with its defaults (shared/PEFT.md §15).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"

namespace petl::nn {

struct Gpt2Config {
  int64_t vocab_size = 50257;
  int64_t n_positions = 1024;
  int64_t n_embd = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_inner = 0;  // 0: 4 * n_embd (config.json's null)
  std::string activation_function = "gelu_new";
  double resid_pdrop = 0.1, embd_pdrop = 0.1, attn_pdrop = 0.1;
  double layer_norm_epsilon = 1e-5;
  double initializer_range = 0.02;
  bool scale_attn_weights = true;
  bool scale_attn_by_inverse_layer_idx = false;
  int64_t bos_token_id = 50256, eos_token_id = 50256;
  int64_t pad_token_id = -1;  // none

  int64_t ffn_width() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
  GeluApprox activation() const;  // from activation_function (checked by validate)
  // Checks the relations between fields; `source` names the file in the error.
  void validate(const std::string& source) const;

  static Gpt2Config from_file(const std::filesystem::path& path);
  static Gpt2Config from_json_string(const std::string& text, const std::string& source = "<string>");
  // The config.json transformers writes for these values (model_type "gpt2").
  nlohmann::json to_json() const;
};

}  // namespace petl::nn

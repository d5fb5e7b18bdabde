// BART's config.json (transformers BartConfig), with its defaults (shared/PEFT.md §16).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"

namespace petl::nn {

struct BartConfig {
  int64_t vocab_size = 50265;
  int64_t d_model = 1024;
  int64_t encoder_layers = 12, decoder_layers = 12;
  int64_t encoder_attention_heads = 16, decoder_attention_heads = 16;
  int64_t encoder_ffn_dim = 4096, decoder_ffn_dim = 4096;
  int64_t max_position_embeddings = 1024;
  std::string activation_function = "gelu";
  double dropout = 0.1, attention_dropout = 0.0, activation_dropout = 0.0;
  double init_std = 0.02;
  bool scale_embedding = false;
  int64_t pad_token_id = 1, bos_token_id = 0, eos_token_id = 2, decoder_start_token_id = 2;
  int64_t forced_eos_token_id = 2;  // -1: none

  static constexpr int64_t kPositionOffset = 2;  // learned positions are indexed with pos + 2
  GeluApprox activation() const;                 // from activation_function (checked by validate)
  double embed_scale() const;                    // sqrt(d_model) when scale_embedding, else 1
  void validate(const std::string& source) const;

  static BartConfig from_file(const std::filesystem::path& path);
  static BartConfig from_json_string(const std::string& text, const std::string& source = "<string>");
  nlohmann::json to_json() const;  // the config.json transformers writes (model_type "bart")
};

}  // namespace petl::nn

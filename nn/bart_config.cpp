#include "nn/bart_config.h"

#include <cmath>

#include "nn/config_json.h"

namespace petl::nn {

namespace {
// Legacy keys of old BART/mBART configs: petl's BART is the plain post-LN model, so each must hold
// the value bart-large has.
void require_legacy(const ConfigReader& r, const std::string& key, bool expected) {
  if (r.has(key) && r.boolean(key, expected) != expected)
    r.fail(key, std::string("expected ") + (expected ? "true" : "false") +
                    " (petl implements the BART architecture of facebook/bart-large)");
}

BartConfig parse(const ConfigReader& r) {
  const std::string model_type = r.string("model_type", "bart");
  if (model_type != "bart") r.fail("model_type", "expected \"bart\", found \"" + model_type + "\"");
  BartConfig c;
  c.vocab_size = r.positive_integer("vocab_size", c.vocab_size);
  c.d_model = r.positive_integer("d_model", c.d_model);
  c.encoder_layers = r.positive_integer("encoder_layers", r.positive_integer("num_hidden_layers", c.encoder_layers));
  c.decoder_layers = r.positive_integer("decoder_layers", c.decoder_layers);
  c.encoder_attention_heads = r.positive_integer("encoder_attention_heads", c.encoder_attention_heads);
  c.decoder_attention_heads = r.positive_integer("decoder_attention_heads", c.decoder_attention_heads);
  c.encoder_ffn_dim = r.positive_integer("encoder_ffn_dim", c.encoder_ffn_dim);
  c.decoder_ffn_dim = r.positive_integer("decoder_ffn_dim", c.decoder_ffn_dim);
  c.max_position_embeddings = r.positive_integer("max_position_embeddings", c.max_position_embeddings);
  c.activation_function = r.string("activation_function", c.activation_function);
  c.dropout = r.probability("dropout", c.dropout);
  c.attention_dropout = r.probability("attention_dropout", c.attention_dropout);
  c.activation_dropout = r.probability("activation_dropout", c.activation_dropout);
  c.init_std = r.number("init_std", c.init_std);
  c.scale_embedding = r.boolean("scale_embedding", c.scale_embedding);
  c.pad_token_id = r.integer("pad_token_id", c.pad_token_id);
  c.bos_token_id = r.integer("bos_token_id", c.bos_token_id);
  c.eos_token_id = r.integer("eos_token_id", c.eos_token_id);
  c.decoder_start_token_id = r.integer("decoder_start_token_id", c.decoder_start_token_id);
  c.forced_eos_token_id = r.integer("forced_eos_token_id", -1);
  for (const char* key : {"encoder_layerdrop", "decoder_layerdrop"})
    if (r.number(key, 0.0) != 0.0) r.fail(key, "layer drop is not supported; expected 0");
  require_legacy(r, "normalize_before", false);
  require_legacy(r, "add_final_layer_norm", false);
  require_legacy(r, "add_bias_logits", false);
  require_legacy(r, "normalize_embedding", true);
  require_legacy(r, "static_position_embeddings", false);
  if (!r.boolean("tie_word_embeddings", true))
    r.fail("tie_word_embeddings", "petl's BART ties lm_head to the shared embedding; found false");
  c.validate(r.source());
  return c;
}
}  // namespace

GeluApprox BartConfig::activation() const {
  return activation_function == "gelu" ? GeluApprox::Erf : GeluApprox::Tanh;
}

double BartConfig::embed_scale() const { return scale_embedding ? std::sqrt(double(d_model)) : 1.0; }

void BartConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& field, const std::string& message) {
    throw Error(source + ": field '" + field + "': " + message);
  };
  if (d_model % encoder_attention_heads != 0)
    fail("encoder_attention_heads", "d_model " + std::to_string(d_model) + " is not divisible by " +
                                        std::to_string(encoder_attention_heads) + " heads");
  if (d_model % decoder_attention_heads != 0)
    fail("decoder_attention_heads", "d_model " + std::to_string(d_model) + " is not divisible by " +
                                        std::to_string(decoder_attention_heads) + " heads");
  if (activation_function != "gelu" && activation_function != "gelu_new" && activation_function != "gelu_pytorch_tanh")
    fail("activation_function",
         "expected one of gelu, gelu_new, gelu_pytorch_tanh; found \"" + activation_function + "\"");
  const std::pair<const char*, int64_t> ids[] = {{"pad_token_id", pad_token_id},
                                                 {"bos_token_id", bos_token_id},
                                                 {"eos_token_id", eos_token_id},
                                                 {"decoder_start_token_id", decoder_start_token_id}};
  for (const auto& [name, id] : ids)
    if (id < 0 || id >= vocab_size)
      fail(name, "token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
}

BartConfig BartConfig::from_file(const std::filesystem::path& path) { return parse(ConfigReader::from_file(path)); }

BartConfig BartConfig::from_json_string(const std::string& text, const std::string& source) {
  return parse(ConfigReader::from_string(text, source));
}

nlohmann::json BartConfig::to_json() const {
  nlohmann::json j;
  j["architectures"] = {"BartForConditionalGeneration"};
  j["model_type"] = "bart";
  j["vocab_size"] = vocab_size;
  j["d_model"] = d_model;
  j["encoder_layers"] = encoder_layers;
  j["decoder_layers"] = decoder_layers;
  j["encoder_attention_heads"] = encoder_attention_heads;
  j["decoder_attention_heads"] = decoder_attention_heads;
  j["encoder_ffn_dim"] = encoder_ffn_dim;
  j["decoder_ffn_dim"] = decoder_ffn_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["activation_function"] = activation_function;
  j["dropout"] = dropout;
  j["attention_dropout"] = attention_dropout;
  j["activation_dropout"] = activation_dropout;
  j["init_std"] = init_std;
  j["scale_embedding"] = scale_embedding;
  j["pad_token_id"] = pad_token_id;
  j["bos_token_id"] = bos_token_id;
  j["eos_token_id"] = eos_token_id;
  j["decoder_start_token_id"] = decoder_start_token_id;
  if (forced_eos_token_id >= 0) j["forced_eos_token_id"] = forced_eos_token_id;
  j["is_encoder_decoder"] = true;
  j["tie_word_embeddings"] = true;
  return j;
}

}  // namespace petl::nn

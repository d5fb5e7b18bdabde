#include "nn/gpt2_config.h"

#include "nn/config_json.h"

namespace petl::nn {

namespace {
Gpt2Config parse(const ConfigReader& r) {
  const std::string model_type = r.string("model_type", "gpt2");
  if (model_type != "gpt2") r.fail("model_type", "expected \"gpt2\", found \"" + model_type + "\"");
  Gpt2Config c;
  c.vocab_size = r.positive_integer("vocab_size", c.vocab_size);
  c.n_positions = r.positive_integer("n_positions", c.n_positions);
  c.n_embd = r.positive_integer("n_embd", c.n_embd);
  c.n_layer = r.positive_integer("n_layer", c.n_layer);
  c.n_head = r.positive_integer("n_head", c.n_head);
  c.n_inner = r.has("n_inner") ? r.positive_integer("n_inner", 0) : 0;
  c.activation_function = r.string("activation_function", c.activation_function);
  c.resid_pdrop = r.probability("resid_pdrop", c.resid_pdrop);
  c.embd_pdrop = r.probability("embd_pdrop", c.embd_pdrop);
  c.attn_pdrop = r.probability("attn_pdrop", c.attn_pdrop);
  c.layer_norm_epsilon = r.number("layer_norm_epsilon", c.layer_norm_epsilon);
  if (c.layer_norm_epsilon <= 0) r.fail("layer_norm_epsilon", "expected a positive number");
  c.initializer_range = r.number("initializer_range", c.initializer_range);
  c.scale_attn_weights = r.boolean("scale_attn_weights", c.scale_attn_weights);
  c.scale_attn_by_inverse_layer_idx = r.boolean("scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx);
  c.bos_token_id = r.integer("bos_token_id", c.bos_token_id);
  c.eos_token_id = r.integer("eos_token_id", c.eos_token_id);
  c.pad_token_id = r.integer("pad_token_id", -1);
  if (!r.boolean("tie_word_embeddings", true))
    r.fail("tie_word_embeddings", "petl's GPT-2 ties lm_head to wte; found false (an untied head is not supported)");
  if (r.has("n_ctx") && r.integer("n_ctx", c.n_positions) != c.n_positions)
    r.fail("n_ctx", "expected the same value as n_positions (" + std::to_string(c.n_positions) + ")");
  c.validate(r.source());
  return c;
}
}  // namespace

GeluApprox Gpt2Config::activation() const {
  return activation_function == "gelu" ? GeluApprox::Erf : GeluApprox::Tanh;
}

void Gpt2Config::validate(const std::string& source) const {
  auto fail = [&](const std::string& field, const std::string& message) {
    throw Error(source + ": field '" + field + "': " + message);
  };
  if (n_embd % n_head != 0)
    fail("n_head", "n_embd " + std::to_string(n_embd) + " is not divisible by n_head " + std::to_string(n_head));
  if (activation_function != "gelu_new" && activation_function != "gelu_pytorch_tanh" &&
      activation_function != "gelu_fast" && activation_function != "gelu")
    fail("activation_function", "expected one of gelu_new, gelu_pytorch_tanh, gelu_fast, gelu; found \"" +
                                    activation_function + "\"");
  for (int64_t id : {bos_token_id, eos_token_id, pad_token_id})
    if (id >= vocab_size) fail("bos_token_id/eos_token_id/pad_token_id", "token id " + std::to_string(id) +
                                                                           " is outside the vocabulary of " +
                                                                           std::to_string(vocab_size));
}

Gpt2Config Gpt2Config::from_file(const std::filesystem::path& path) { return parse(ConfigReader::from_file(path)); }

Gpt2Config Gpt2Config::from_json_string(const std::string& text, const std::string& source) {
  return parse(ConfigReader::from_string(text, source));
}

nlohmann::json Gpt2Config::to_json() const {
  nlohmann::json j;
  j["architectures"] = {"GPT2LMHeadModel"};
  j["model_type"] = "gpt2";
  j["vocab_size"] = vocab_size;
  j["n_positions"] = n_positions;
  j["n_embd"] = n_embd;
  j["n_layer"] = n_layer;
  j["n_head"] = n_head;
  j["n_inner"] = n_inner > 0 ? nlohmann::json(n_inner) : nlohmann::json(nullptr);
  j["activation_function"] = activation_function;
  j["resid_pdrop"] = resid_pdrop;
  j["embd_pdrop"] = embd_pdrop;
  j["attn_pdrop"] = attn_pdrop;
  j["layer_norm_epsilon"] = layer_norm_epsilon;
  j["initializer_range"] = initializer_range;
  j["scale_attn_weights"] = scale_attn_weights;
  j["scale_attn_by_inverse_layer_idx"] = scale_attn_by_inverse_layer_idx;
  j["reorder_and_upcast_attn"] = false;
  j["bos_token_id"] = bos_token_id;
  j["eos_token_id"] = eos_token_id;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  j["tie_word_embeddings"] = true;
  return j;
}

}  // namespace petl::nn

#include "nn/generation_config.h"

#include <cmath>
#include <fstream>

#include "tensor/error.h"

namespace petl::nn {
namespace {

using nlohmann::json;

template <class T>
void take(std::optional<T>& field, const std::optional<T>& over) {
  if (over) field = over;
}

std::string type_of(const json& value) { return value.type_name(); }

std::optional<int64_t> read_int(const json& object, const char* key, const std::string& source) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  PETL_CHECK(it->is_number_integer(), source, ": key \"", key, "\" must be an integer, found ", type_of(*it),
             " ", it->dump());
  return it->get<int64_t>();
}

std::optional<double> read_number(const json& object, const char* key, const std::string& source) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  PETL_CHECK(it->is_number(), source, ": key \"", key, "\" must be a number, found ", type_of(*it), " ", it->dump());
  return it->get<double>();
}

std::optional<bool> read_bool(const json& object, const char* key, const std::string& source) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  PETL_CHECK(it->is_boolean(), source, ": key \"", key, "\" must be true or false, found ", it->dump());
  return it->get<bool>();
}

// One id or a list of ids (transformers accepts both for eos_token_id and forced_eos_token_id).
std::optional<std::vector<int64_t>> read_ids(const json& object, const char* key, const std::string& source) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return std::vector<int64_t>{it->get<int64_t>()};
  PETL_CHECK(it->is_array() && !it->empty(), source, ": key \"", key,
             "\" must be a token id or a non-empty list of token ids, found ", it->dump());
  std::vector<int64_t> ids;
  for (const json& id : *it) {
    PETL_CHECK(id.is_number_integer(), source, ": key \"", key, "\" must list integer token ids, found ", id.dump());
    ids.push_back(id.get<int64_t>());
  }
  return ids;
}

std::optional<EarlyStopping> read_early_stopping(const json& object, const std::string& source) {
  const auto it = object.find("early_stopping");
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>() ? EarlyStopping::True : EarlyStopping::False;
  PETL_CHECK(it->is_string() && it->get<std::string>() == "never", source,
             ": key \"early_stopping\" must be true, false or \"never\", found ", it->dump());
  return EarlyStopping::Never;
}

void check_token(int64_t id, const char* name, int64_t vocab_size) {
  PETL_CHECK(id >= 0 && id < vocab_size, "generation: ", name, " = ", id, " is not a token id of the model (vocab_size ",
             vocab_size, ")");
}

}  // namespace

GenerationConfig GenerationConfig::merged_over(const GenerationConfig& base) const {
  GenerationConfig out = base;
  take(out.max_length, max_length);
  take(out.max_new_tokens, max_new_tokens);
  take(out.min_length, min_length);
  take(out.min_new_tokens, min_new_tokens);
  take(out.do_sample, do_sample);
  take(out.num_beams, num_beams);
  take(out.num_return_sequences, num_return_sequences);
  take(out.early_stopping, early_stopping);
  take(out.length_penalty, length_penalty);
  take(out.no_repeat_ngram_size, no_repeat_ngram_size);
  take(out.temperature, temperature);
  take(out.top_p, top_p);
  take(out.top_k, top_k);
  take(out.eos_token_id, eos_token_id);
  take(out.pad_token_id, pad_token_id);
  take(out.bos_token_id, bos_token_id);
  take(out.decoder_start_token_id, decoder_start_token_id);
  take(out.forced_bos_token_id, forced_bos_token_id);
  take(out.forced_eos_token_id, forced_eos_token_id);
  take(out.max_position_embeddings, max_position_embeddings);
  return out;
}

GenerationConfig GenerationConfig::from_json(const json& object, const std::string& source) {
  PETL_CHECK(object.is_object(), source, ": expected a JSON object, found ", type_of(object));
  GenerationConfig c;
  c.max_length = read_int(object, "max_length", source);
  c.max_new_tokens = read_int(object, "max_new_tokens", source);
  c.min_length = read_int(object, "min_length", source);
  c.min_new_tokens = read_int(object, "min_new_tokens", source);
  c.do_sample = read_bool(object, "do_sample", source);
  c.num_beams = read_int(object, "num_beams", source);
  c.num_return_sequences = read_int(object, "num_return_sequences", source);
  c.early_stopping = read_early_stopping(object, source);
  c.length_penalty = read_number(object, "length_penalty", source);
  c.no_repeat_ngram_size = read_int(object, "no_repeat_ngram_size", source);
  c.temperature = read_number(object, "temperature", source);
  c.top_p = read_number(object, "top_p", source);
  c.top_k = read_int(object, "top_k", source);
  c.eos_token_id = read_ids(object, "eos_token_id", source);
  c.pad_token_id = read_int(object, "pad_token_id", source);
  c.bos_token_id = read_int(object, "bos_token_id", source);
  c.decoder_start_token_id = read_int(object, "decoder_start_token_id", source);
  c.forced_bos_token_id = read_int(object, "forced_bos_token_id", source);
  c.forced_eos_token_id = read_ids(object, "forced_eos_token_id", source);
  return c;
}

GenerationConfig load_generation_config(const std::filesystem::path& model_dir) {
  const auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    PETL_CHECK(in, path.string(), ": cannot open");
    try {
      return json::parse(in);
    } catch (const json::parse_error& e) {
      throw Error(detail::concat(path.string(), ": not valid JSON: ", e.what()));
    }
  };
  const std::filesystem::path config_path = model_dir / "config.json";
  const std::filesystem::path generation_path = model_dir / "generation_config.json";
  PETL_CHECK(std::filesystem::exists(config_path), config_path.string(), ": missing (every model directory has one)");
  const json config = read(config_path);
  PETL_CHECK(config.is_object(), config_path.string(), ": expected a JSON object, found ", type_of(config));
  GenerationConfig c = std::filesystem::exists(generation_path)
                           ? GenerationConfig::from_json(read(generation_path), generation_path.string())
                           : GenerationConfig::from_json(config, config_path.string());
  c.max_position_embeddings = read_int(config, "max_position_embeddings", config_path.string());
  if (!c.max_position_embeddings) c.max_position_embeddings = read_int(config, "n_positions", config_path.string());
  return c;
}

GenerationPlan plan_generation(const GenerationConfig& request, const GenerationConfig& model_defaults,
                               const StepModel& model, int64_t prompt_length) {
  // transformers: "has_default_max_length" means neither the caller nor the model set max_length.
  const bool default_max_length = !request.max_length && !model_defaults.max_length;
  const GenerationConfig c = request.merged_over(model_defaults);
  GenerationPlan p;
  p.vocab_size = model.vocab_size();
  p.encoder_decoder = model.decoder_start_token_id() >= 0;
  p.prompt_length = prompt_length;
  PETL_CHECK(prompt_length >= 1, "generation: the starting sequence is empty (prompt length ", prompt_length, ")");

  // ---- lengths (transformers `_prepare_generated_length`)
  PETL_CHECK(!c.max_new_tokens || *c.max_new_tokens > 0, "generation: max_new_tokens must be > 0, found ",
             *c.max_new_tokens);
  if (c.max_new_tokens) {
    p.max_length = *c.max_new_tokens + prompt_length;
  } else if (default_max_length) {  // by default 20 new tokens, capped by the position table
    p.max_length = 20 + prompt_length;
    if (c.max_position_embeddings) p.max_length = std::min(p.max_length, *c.max_position_embeddings);
  } else {
    p.max_length = *c.max_length;
  }
  PETL_CHECK(prompt_length < p.max_length, "generation: the ", p.encoder_decoder ? "decoder_input_ids" : "input_ids",
             " are ", prompt_length, " tokens long but max_length is ", p.max_length,
             "; raise max_length or set max_new_tokens");
  PETL_CHECK(!c.min_new_tokens || *c.min_new_tokens >= 0, "generation: min_new_tokens must be >= 0, found ",
             *c.min_new_tokens);
  PETL_CHECK(!c.min_length || *c.min_length >= 0, "generation: min_length must be >= 0, found ", *c.min_length);
  p.min_length = c.min_new_tokens ? *c.min_new_tokens + prompt_length : c.min_length.value_or(0);

  // ---- strategy
  p.do_sample = c.do_sample.value_or(false);
  p.num_beams = c.num_beams.value_or(1);
  p.num_return_sequences = c.num_return_sequences.value_or(1);
  PETL_CHECK(p.num_beams >= 1, "generation: num_beams must be >= 1, found ", p.num_beams);
  PETL_CHECK(p.num_return_sequences >= 1, "generation: num_return_sequences must be >= 1, found ",
             p.num_return_sequences);
  PETL_CHECK(!(p.num_beams == 1 && !p.do_sample && p.num_return_sequences > 1),
             "generation: greedy search returns one sequence per prompt; num_return_sequences = ",
             p.num_return_sequences, " needs num_beams >= it or do_sample = true");
  PETL_CHECK(p.num_beams == 1 || p.num_return_sequences <= p.num_beams, "generation: num_return_sequences (",
             p.num_return_sequences, ") must be <= num_beams (", p.num_beams, ")");
  PETL_CHECK(!(p.do_sample && p.num_beams > 1),
             "generation: beam sampling (do_sample with num_beams > 1) is not implemented; use num_beams = 1 "
             "with do_sample, or do_sample = false");
  p.early_stopping = c.early_stopping.value_or(EarlyStopping::False);
  p.length_penalty = c.length_penalty.value_or(1.0);
  PETL_CHECK(std::isfinite(p.length_penalty), "generation: length_penalty must be finite, found ", p.length_penalty);
  p.no_repeat_ngram_size = c.no_repeat_ngram_size.value_or(0);
  PETL_CHECK(p.no_repeat_ngram_size >= 0, "generation: no_repeat_ngram_size must be >= 0, found ",
             p.no_repeat_ngram_size);
  p.temperature = c.temperature.value_or(1.0);
  p.top_k = c.top_k.value_or(50);
  p.top_p = c.top_p.value_or(1.0);
  if (p.do_sample) {
    PETL_CHECK(p.temperature > 0 && std::isfinite(p.temperature),
               "generation: temperature must be a positive number when sampling, found ", p.temperature,
               " (for greedy decoding set do_sample = false)");
    PETL_CHECK(p.top_k >= 0, "generation: top_k must be >= 0 (0 disables it), found ", p.top_k);
    PETL_CHECK(p.top_p >= 0 && p.top_p <= 1, "generation: top_p must be in [0, 1], found ", p.top_p);
  }

  // ---- special tokens (transformers `_prepare_special_tokens`): the config's, else the model's
  if (c.eos_token_id) {
    p.eos_token_ids = *c.eos_token_id;
  } else if (model.eos_token_id() >= 0) {
    p.eos_token_ids = {model.eos_token_id()};
  }
  for (const int64_t id : p.eos_token_ids) check_token(id, "eos_token_id", p.vocab_size);
  const int64_t pad = c.pad_token_id ? *c.pad_token_id : model.pad_token_id();
  p.pad_token_id = pad >= 0 ? pad : (p.eos_token_ids.empty() ? -1 : p.eos_token_ids[0]);
  if (p.encoder_decoder) {
    p.decoder_start_token_id = model.decoder_start_token_id();
    const std::optional<int64_t> asked = c.decoder_start_token_id ? c.decoder_start_token_id : c.bos_token_id;
    PETL_CHECK(!asked || *asked == p.decoder_start_token_id, "generation: decoder_start_token_id ", *asked,
               " differs from the model's ", p.decoder_start_token_id,
               " (the model starts its decoder from its own)");
  }
  p.forced_bos_token_id = c.forced_bos_token_id;
  if (p.forced_bos_token_id) check_token(*p.forced_bos_token_id, "forced_bos_token_id", p.vocab_size);
  if (c.forced_eos_token_id) p.forced_eos_token_ids = *c.forced_eos_token_id;
  for (const int64_t id : p.forced_eos_token_ids) check_token(id, "forced_eos_token_id", p.vocab_size);
  return p;
}

}  // namespace petl::nn

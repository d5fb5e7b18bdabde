// What to generate and how: the knobs of Hugging Face's GenerationConfig that petl implements, with
// the same names, the same "unset" state and the same defaults (transformers 5.23,
// generation/configuration_utils.py `_get_default_generation_params`).
//
// Three layers, as in `transformers`: the user's request overrides the model directory's defaults
// (generation_config.json, or the generation keys of config.json when there is none), which override
// the global defaults. `plan_generation` merges them, fills in the special tokens from the model,
// turns max_new_tokens / min_new_tokens into absolute lengths and validates everything, giving a
// GenerationPlan of plain values that the decoding loops read.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/step_model.h"

namespace petl::nn {

// early_stopping: true stops a prompt's search once num_beams hypotheses are finished; false stops
// when the best running beam (scored at the current length) cannot beat the worst finished one;
// "never" scores the running beam at max_length when length_penalty > 0 (the canonical heuristic).
enum class EarlyStopping { False, True, Never };

struct GenerationConfig {
  // Lengths count every token of the sequence the decoder sees: the prompt (with its padding) for
  // GPT-2, the decoder start token for BART. max_new_tokens / min_new_tokens take precedence.
  std::optional<int64_t> max_length, max_new_tokens, min_length, min_new_tokens;
  std::optional<bool> do_sample;
  std::optional<int64_t> num_beams, num_return_sequences;
  std::optional<EarlyStopping> early_stopping;
  std::optional<double> length_penalty;  // beam scores are divided by generated_length^length_penalty
  std::optional<int64_t> no_repeat_ngram_size;
  std::optional<double> temperature, top_p;
  std::optional<int64_t> top_k;  // 0 disables
  // Special tokens; unset ones come from the model (StepModel) when the plan is made.
  std::optional<std::vector<int64_t>> eos_token_id;  // config files may give one id or a list
  std::optional<int64_t> pad_token_id, bos_token_id, decoder_start_token_id;
  std::optional<int64_t> forced_bos_token_id;                  // forced as the first generated token
  std::optional<std::vector<int64_t>> forced_eos_token_id;     // forced as the last token at max_length
  // From config.json, not a generation knob: caps the default max_length as transformers does.
  std::optional<int64_t> max_position_embeddings;

  // Fields set in `this` win; the rest come from `base`.
  GenerationConfig merged_over(const GenerationConfig& base) const;

  // Reads the generation keys of a JSON object (generation_config.json, or config.json). `source`
  // names the file in errors. Unknown keys are ignored (config files carry many other fields); a
  // known key with the wrong type or an impossible value is an error naming the file and the key.
  static GenerationConfig from_json(const nlohmann::json& object, const std::string& source);
};

// The defaults a model directory gives: generation_config.json when present, else config.json
// (transformers' fallback for older checkpoints such as facebook/bart-large). max_position_embeddings
// (GPT-2: n_positions) is read from config.json either way.
GenerationConfig load_generation_config(const std::filesystem::path& model_dir);

// The resolved, validated values the decoding loops use.
struct GenerationPlan {
  bool encoder_decoder = false;
  int64_t prompt_length = 0;   // columns of the decoder's starting sequence (HF's input_ids_length)
  int64_t max_length = 0;      // total columns at most
  int64_t min_length = 0;      // EOS is banned while a sequence is shorter than this
  bool do_sample = false;
  int64_t num_beams = 1, num_return_sequences = 1;
  EarlyStopping early_stopping = EarlyStopping::False;
  double length_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  double temperature = 1.0, top_p = 1.0;
  int64_t top_k = 50;
  std::vector<int64_t> eos_token_ids;  // empty: no EOS, sequences run to max_length
  int64_t pad_token_id = -1;           // what finished rows are filled with (EOS when unset)
  int64_t decoder_start_token_id = -1;
  std::optional<int64_t> forced_bos_token_id;
  std::vector<int64_t> forced_eos_token_ids;
  int64_t vocab_size = 0;
};

// Merges `request` over `model_defaults` over the global defaults and validates, for a decoder whose
// starting sequence has `prompt_length` columns. Throws petl::Error naming the field and the value.
GenerationPlan plan_generation(const GenerationConfig& request, const GenerationConfig& model_defaults,
                               const StepModel& model, int64_t prompt_length);

}  // namespace petl::nn

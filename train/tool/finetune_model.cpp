#include "train/tool/finetune_model.h"

#include <algorithm>

#include "nn/generation_config.h"
#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"
#include "train/lib/train_state.h"
#include "train/tool/seq2seq_data.h"

namespace petl::tool {

namespace fs = std::filesystem;

fs::path base_model_dir(const nlohmann::json& config) {
  const std::string model = config.value("model", std::string());
  return model.empty() ? repository_root() / "models" / "gpt2-petl-small" : fs::path(model);
}

FinetuneModel build_finetune_model(const nlohmann::json& config) {
  FinetuneModel fm;
  std::optional<double> dropout;
  if (config.contains("dropout") && config["dropout"].is_number()) dropout = config["dropout"].get<double>();
  fm.base = load_model_dir(base_model_dir(config), dropout);
  fm.base.module().set_trainable(true);
  const uint64_t seed = config.value("seed", uint64_t(0));
  fm.method = train::attach_method(config.value("method", std::string("prefix")),
                                   config.value("method-options", nlohmann::json::object()), fm.base.module(),
                                   seed + 0x9E3779B97F4A7C15ull);
  return fm;
}

int64_t sequence_limit(const FinetuneModel& fm, int64_t requested) {
  const int64_t room = fm.base.positions() - fm.method->added_positions();
  PETL_CHECK(room >= 4, "method '", fm.method->name(), "' adds ", fm.method->added_positions(),
             " positions, leaving ", room, " of the model's ", fm.base.positions(), " for the tokens");
  return std::min(requested, room);
}

EncodedPairs encode_task_pairs(const FinetuneModel& fm, const std::vector<std::pair<std::string, std::string>>& pairs,
                               int64_t max_length) {
  const int64_t limit = sequence_limit(fm, max_length);
  if (fm.base.is_bart()) {
    // The decoder's labels take positions 0.. (moved by a BART prefix's shift).
    const int64_t target_room = fm.base.positions() - fm.base.bart->model->decoder->embed.position_shift;
    return encode_seq2seq_pairs(*fm.base.tokenizer, pairs, limit, std::min(max_length, target_room));
  }
  return encode_pairs(*fm.base.tokenizer, pairs, fm.base.model->eos_token_id(), limit);
}

Tensor finetune_loss(FinetuneModel& fm, const train::Batch& batch) {
  if (fm.base.is_bart()) {
    nn::BartForConditionalGeneration& bart = *fm.base.bart;
    // HF: decoder_input_ids = shift_tokens_right(labels), no decoder mask (causal only; padding sits
    // after every real token and its labels are -100).
    const Tensor logits = bart.forward(batch.ids, batch.mask, bart.shift_tokens_right(batch.decoder_labels));
    return bart.loss(logits, fm.method->loss_labels(batch.decoder_labels));
  }
  nn::Gpt2LMHead& model = *fm.base.model;
  return model.loss(model.forward(batch.ids, batch.mask), fm.method->loss_labels(batch.labels));
}

std::vector<std::string> decode_task_inputs(FinetuneModel& fm, const std::vector<std::string>& inputs,
                                            const nn::GenerationConfig& request, int64_t batch_size,
                                            bool show_progress) {
  // The decoders switch the model to evaluation mode; the method's own modules follow it here.
  const bool method_was_training = fm.method->training();
  fm.method->train(false);
  std::vector<std::string> outputs =
      fm.base.is_bart()
          ? decode_seq2seq(*fm.base.bart, *fm.base.tokenizer, inputs, request, nn::load_generation_config(fm.base.dir),
                           batch_size, show_progress, sequence_limit(fm, fm.base.positions()))
          : decode_inputs(*fm.base.model, *fm.base.tokenizer, inputs, request, batch_size, show_progress,
                          fm.method->added_positions());
  fm.method->train(method_was_training);
  return outputs;
}

FinetuneModel load_finetune_run(const fs::path& run, nlohmann::json* config_out) {
  const fs::path file = run / "config.json";
  PETL_CHECK(fs::exists(file), "run directory ", run.string(), " lacks config.json (not a `train finetune` run)");
  const nlohmann::json config = data::parse_json(data::read_text_file(file.string()), file.string());
  PETL_CHECK(config.is_object() && config.contains("method"), file.string(), ": not a finetune run config");
  FinetuneModel fm = build_finetune_model(config);
  const fs::path best = run / "best.safetensors", last = run / "checkpoint.safetensors";
  PETL_CHECK(fs::exists(best) || fs::exists(last), "run directory ", run.string(),
             " holds no trained tensors (best.safetensors or checkpoint.safetensors)");
  train::load_parameters(fs::exists(best) ? best : last, fm.method->trainable());
  if (config_out) *config_out = config;
  return fm;
}

}  // namespace petl::tool

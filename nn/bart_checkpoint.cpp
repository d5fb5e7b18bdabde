#include "nn/bart_checkpoint.h"

#include "nn/atomic_file.h"
#include "nn/checkpoint.h"

namespace petl::nn {

KeyMap bart_key_map() {
  KeyMap keys;
  keys.to_param = accept_prefix("model.", /*outside=*/{"final_logits_bias", "lm_head.weight"}, /*skip_suffixes=*/{});
  keys.tied = {{"model.shared.weight",
                {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}}};
  keys.optional = {"final_logits_bias"};
  return keys;
}

std::unique_ptr<BartForConditionalGeneration> load_bart(const std::filesystem::path& dir) {
  const BartConfig config = BartConfig::from_file(dir / "config.json");
  auto model = std::make_unique<BartForConditionalGeneration>(config);
  load_state_dict(*model, Checkpoint::open_dir(dir), bart_key_map());
  return model;
}

void save_bart(const BartForConditionalGeneration& model, const std::filesystem::path& dir) {
  save_checkpoint(dir, state_dict(model, bart_key_map()));
  write_file_atomic(dir / "config.json", model.config().to_json().dump(2) + "\n");
}

}  // namespace petl::nn

#include "nn/gpt2_checkpoint.h"

#include "nn/atomic_file.h"
#include "nn/checkpoint.h"

namespace petl::nn {

KeyMap gpt2_key_map() {
  KeyMap keys;
  keys.to_param = accept_prefix("transformer.", /*outside=*/{"lm_head.weight"},
                                /*skip_suffixes=*/{".attn.bias", ".attn.masked_bias"});
  keys.tied = {{"transformer.wte.weight", {"lm_head.weight"}}};
  return keys;
}

std::unique_ptr<Gpt2LMHead> load_gpt2(const std::filesystem::path& dir) {
  const Gpt2Config config = Gpt2Config::from_file(dir / "config.json");
  auto model = std::make_unique<Gpt2LMHead>(config);
  load_state_dict(*model, Checkpoint::open_dir(dir), gpt2_key_map());
  return model;
}

void save_gpt2(const Gpt2LMHead& model, const std::filesystem::path& dir) {
  save_checkpoint(dir, state_dict(model, gpt2_key_map()));
  write_file_atomic(dir / "config.json", model.config().to_json().dump(2) + "\n");
}

}  // namespace petl::nn

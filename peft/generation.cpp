#include "peft/generation.h"

namespace petl::peft {

void decode_like_peft(nn::Gpt2LMHead& model, const PrefixTuning& prefix) {
  model.past_positions = prefix.length;
  model.positions_over_padding = false;
}

void decode_like_peft(nn::Gpt2LMHead& model, const PromptTuning& /*prompt*/) {
  model.past_positions = 0;
  model.positions_over_padding = true;
}

}  // namespace petl::peft

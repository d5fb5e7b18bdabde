// Prefix tuning on BART (shared/PEFT.md §3.5, §3.8, §18.5). Two placements:
//
//   Paper (default; Li & Liang [PT] seq2seq/prefixTuning.py, AdapterHub PrefixTuningConfig with
//   encoder_prefix and cross_prefix): three independent prefix networks, each a PrefixTuning
//   (own E and MLP, output 2·L·d):
//       encoder_prefix  -> encoder self-attention of layer i   (slot i of its R)
//       self_prefix     -> decoder self-attention of layer i   (slot i)
//       cross_prefix    -> decoder cross-attention of layer i  (slot i), prepended to the encoder's keys/values
//     Positions are not shifted.
//
//   Peft (Hugging Face peft 0.21 PREFIX_TUNING on SEQ_2_SEQ_LM, peft_model.py get_prompt): one network
//   with L = encoder_layers slots; its [P, 2L, N_h, d_h] view is concatenated with itself along 2L and
//   split in groups of 4 = (self K, self V, cross K, cross V) per decoder layer, the cross part is
//   then dropped (cross_attention_cache reset) and the encoder gets nothing. So decoder layer i's
//   self-attention reads slot (2i mod L) (layers i >= L, when the decoder is deeper than the
//   encoder, get none: peft's cache has L entries), and, the prefix being a decoder past of length P, the
//   decoder's tokens take positions P .. P+T-1 (nn::BartEmbeddings::position_shift).
//
// Every prefix row is visible to every query (no padding, no causal mask on it). Parameters are
// "<network>.embedding.weight", "<network>.transform.{0,2}.{weight,bias}" (AdapterHub's location names).
#pragma once
#include <memory>

#include "nn/bart.h"
#include "peft/prefix_tuning.h"

namespace petl::peft {

enum class BartPrefixPlacement { Paper, Peft };

struct BartPrefixOptions {
  PrefixTuningOptions prefix;
  BartPrefixPlacement placement = BartPrefixPlacement::Paper;
};

class BartPrefixTuning : public nn::Module {
 public:
  BartPrefixTuning(const nn::BartConfig& config, BartPrefixOptions options, Generator& gen);
  // Wraps a flat table R read from peft's file: the Peft placement (what peft's format can express).
  BartPrefixTuning(const nn::BartConfig& config, std::shared_ptr<PrefixTuning> peft_table);

  // Freezes the model and attaches the networks to their attentions (and, Peft, shifts the decoder's
  // positions by P). detach() undoes both.
  void attach(nn::BartForConditionalGeneration& model);
  void detach();
  // Every network evaluated into its flat table R (no graph), same placement: what is kept after training.
  std::shared_ptr<BartPrefixTuning> folded() const;

  // peft's directory (SEQ_2_SEQ_LM, prompt_embeddings = R of the Peft placement). The Paper placement
  // has no peft form (peft cannot place encoder or cross prefixes): an error says so.
  void save_peft(const std::filesystem::path& dir, const std::string& base_model = "") const;
  static std::shared_ptr<BartPrefixTuning> load_peft(const std::filesystem::path& dir, const nn::BartConfig& config);

  const BartPrefixPlacement placement;
  const int64_t length;
  std::shared_ptr<PrefixTuning> encoder_prefix, self_prefix, cross_prefix;  // Peft: self_prefix only

 private:
  BartPrefixTuning(const nn::BartConfig& config, BartPrefixPlacement placement, int64_t length);
  nn::BartConfig config_;
  nn::BartForConditionalGeneration* attached_ = nullptr;
};

}  // namespace petl::peft

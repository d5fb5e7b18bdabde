// The tokenizer of a Hugging Face model directory: the byte-level BPE (vocab.json + merges.txt, or
// the "model" of tokenizer.json when those are absent), its special tokens, and the framing
// transformers adds around a text.
//
//   GPT-2 (GPT2Tokenizer):  specials bos = eos = unk = "<|endoftext|>"; no framing:
//                           "Hello" -> [15496]
//   BART  (BartTokenizer, a RobertaTokenizer): "<s>" 0, "<pad>" 1, "</s>" 2, "<unk>" 3,
//                           "<mask>" 50264; source and target alike are framed "<s> ... </s>":
//                           "Hello" -> [0, 31414, 2]
//
// Which family a directory holds: tokenizer_config.json "tokenizer_class", else tokenizer.json's
// post_processor (RobertaProcessing frames), else config.json "model_type". Special tokens: the
// family's defaults, replaced by tokenizer_config.json's "<role>_token" entries and then by
// special_tokens_map.json's (a string, or an object with "content", "lstrip", "rstrip"). Their
// ids come from the vocabulary (a special token missing from it is an error). Flags of added tokens
// also come from tokenizer.json "added_tokens" and tokenizer_config.json "added_tokens_decoder".
//
// Special tokens written in the text become their ids, found leftmost-longest as the tokenizers
// library does; one with lstrip (rstrip) also takes the whitespace before (after) it, so that with
// bart-large's "<mask>" (lstrip) "Hello <mask> world" is [..."Hello", "<mask>", " world"...].
#pragma once
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.h"

namespace petl::tokenizer {

// A token matched as a whole in the text, never split by BPE.
struct AddedToken {
  std::string content;
  TokenId id = -1;
  bool lstrip = false, rstrip = false;
  bool special = true;  // left out by decode(ids, skip_special = true)
};

enum class TokenizerFamily {
  Gpt2,  // GPT2Tokenizer: no framing (unless tokenizer_config.json sets add_bos_token / add_eos_token)
  Bart,  // BartTokenizer / RobertaTokenizer: <s> text </s>
};

struct SpecialTokenIds {
  std::optional<TokenId> bos, eos, unk, pad, mask, cls, sep;
};

class ModelTokenizer {
 public:
  static ModelTokenizer load(const std::filesystem::path& dir);
  // From a BPE model in memory, with the family's default special tokens (no lstrip/rstrip).
  static ModelTokenizer from_bpe(Tokenizer bpe, TokenizerFamily family);

  // The text's ids: special tokens written in it become their ids; no framing.
  std::vector<TokenId> encode(std::string_view text) const;
  // What transformers' tokenizer(text)["input_ids"] gives: encode() framed for the family.
  std::vector<TokenId> encode_source(std::string_view text) const;
  // What tokenizer(text_target=text)["labels"] gives (the same framing for both families).
  std::vector<TokenId> encode_target(std::string_view text) const;
  // Writes vocab.json, merges.txt and a tokenizer_config.json (tokenizer_class, the special tokens
  // by role, added_tokens_decoder with their flags) that load() and transformers both read back to
  // the same tokenizer. Each file is written atomically.
  void save(const std::filesystem::path& dir) const;

  // The bytes of the ids; with skip_special, the special tokens are left out.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;

  TokenizerFamily family() const { return family_; }
  const SpecialTokenIds& special_ids() const { return ids_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  const Tokenizer& bpe() const { return bpe_; }
  std::size_t vocab_size() const { return bpe_.vocab_size(); }

 private:
  ModelTokenizer(Tokenizer bpe, TokenizerFamily family) : bpe_(std::move(bpe)), family_(family) {}
  std::vector<TokenId> frame(std::vector<TokenId> ids) const;

  Tokenizer bpe_;
  TokenizerFamily family_;
  SpecialTokenIds ids_;
  std::vector<AddedToken> added_;
  bool add_bos_ = false, add_eos_ = false;  // the framing
};

}  // namespace petl::tokenizer

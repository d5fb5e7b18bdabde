// The GPT-2 byte-level BPE tokenizer: load a vocabulary, encode text to ids, decode ids to text.
//
//   auto tok = petl::tokenizer::Tokenizer::load_openai("../shared/data/gpt2");
//   std::vector<TokenId> ids = tok.encode("Hello world", SpecialTokens::AsText);  // {15496, 995}
//   std::string text = tok.decode(ids);                                          // "Hello world"
//
// encode(): text (UTF-8) -> pre-tokens (pretokenize.h) -> bytes of each pre-token as byte-level
// symbols -> rank-ordered merges (merge_table.h) -> ids. A cache maps pre-tokens seen before to
// their ids. docs/tokenizer.md walks one sentence through every stage.
#pragma once
#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/merge_table.h"
#include "tokenizer/model.h"
#include "tokenizer/vocab_files.h"

namespace petl::tokenizer {

// What encode() does with the text of a special token such as "<|endoftext|>".
enum class SpecialTokens {
  Allow,   // the text "<|endoftext|>" becomes its single special id (50256 in GPT-2)
  AsText,  // it is ordinary text: "<|", "endoftext", "|>" -> 27, 91, 437, 1659, 5239, 91, 29
};

class Tokenizer {
 public:
  // OpenAI's layout: dir/encoder.json + dir/vocab.bpe.
  static Tokenizer load_openai(const std::filesystem::path& dir);
  // Hugging Face's layout: dir/vocab.json + dir/merges.txt.
  static Tokenizer load_huggingface(const std::filesystem::path& dir);
  // Whichever of the two layouts dir holds (Hugging Face's is tried first).
  static Tokenizer load(const std::filesystem::path& dir);
  // Explicit file names.
  static Tokenizer from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges);
  // Files already parsed (vocab_files.h), e.g. from bytes in memory; messages use their names.
  static Tokenizer from_parsed(VocabFile vocab, MergesFile merges);
  // An in-memory model, e.g. straight from train_bpe().
  static Tokenizer from_model(const BpeModel& model);
  // Every loader refuses an inconsistent pair: each vocabulary entry must be one of the 256 byte
  // symbols, the result of a merge, or a control token ("<|endoftext|>", "<s>", "</s>", "<pad>",
  // ...), so |vocabulary| = 256 + distinct merge results + control tokens; a TokenizerError says
  // which entry is off and how the counts differ.

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Encodes UTF-8 text. Throws TokenizerError naming the byte offset on invalid UTF-8.
  // Safe to call from several threads; the word cache is used by one caller at a time (others
  // run uncached rather than wait), so use one Tokenizer per thread for parallel throughput.
  std::vector<TokenId> encode(std::string_view text, SpecialTokens special) const;
  // Same, appending to `out`.
  void encode_into(std::string_view text, SpecialTokens special, std::vector<TokenId>& out) const;

  // The bytes the ids stand for, concatenated. decode(encode(s)) == s for every valid UTF-8 s.
  // A sequence that cuts a multi-byte character in two gives the raw bytes (not valid UTF-8);
  // nothing is replaced. An id outside [0, vocab_size()) is a TokenizerError naming it.
  std::string decode(std::span<const TokenId> ids) const;

  std::size_t vocab_size() const { return model_.tokens.size(); }
  // The vocabulary entry (byte-level symbol string, e.g. "Ġworld") of an id; throws on a bad id.
  const std::string& token(TokenId id) const;
  // The id of a vocabulary entry given as its symbol string.
  std::optional<TokenId> find(std::string_view symbols) const;
  // Special tokens are the vocabulary entries spelled "<|name|>"; in GPT-2 only "<|endoftext|>".
  const std::vector<std::pair<std::string, TokenId>>& special_tokens() const { return specials_; }
  // The id of "<|endoftext|>" (50256 in GPT-2); a TokenizerError when the vocabulary lacks it.
  TokenId end_of_text_id() const;

  // The id of the one-byte token for byte b.
  TokenId byte_id(unsigned char b) const { return byte_ids_[b]; }
  const MergeTable& merge_table() const { return merges_; }
  // The model this tokenizer was built from (for saving it in another layout).
  const BpeModel& model() const { return model_; }

 private:
  struct Cache;
  struct Locator;
  Tokenizer();
  static Tokenizer build(BpeModel model, const Locator& where);
  static void check_every_token_is_reachable(const Tokenizer& t, const std::vector<MergeTable::Entry>& rules,
                                             const Locator& where);
  void encode_ordinary(std::string_view text, std::size_t base_offset, std::vector<TokenId>& out) const;
  void encode_piece(std::string_view piece, std::vector<TokenId>& out) const;

  BpeModel model_;
  // Views into model_.tokens' strings (their buffers do not move when the Tokenizer does).
  std::unordered_map<std::string_view, TokenId> index_;
  std::vector<std::string> token_bytes_;  // what each id decodes to
  std::vector<std::pair<std::string, TokenId>> specials_;
  std::array<TokenId, 256> byte_ids_{};
  MergeTable merges_;
  std::unique_ptr<Cache> cache_;
};

// Writes a model in Hugging Face's layout: dir/vocab.json + dir/merges.txt, each atomically
// (temporary file + rename). The directory is created when missing.
void save_huggingface(const BpeModel& model, const std::filesystem::path& dir);

}  // namespace petl::tokenizer

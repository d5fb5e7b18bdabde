#include "tokenizer/bpe.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/vocab_files.h"

namespace petl::tokenizer {

// Pre-token bytes -> their ids. Ids live in one flat arena; the whole cache is dropped when it
// reaches kMaxEntries, which bounds memory on endless streams of new words.
struct Tokenizer::Cache {
  static constexpr std::size_t kMaxEntries = 1 << 18;
  struct Slice {
    std::uint32_t offset, length;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mutex;
  std::unordered_map<std::string, Slice, Hash, std::equal_to<>> words;
  std::vector<TokenId> arena;
};

// Describes where a vocabulary entry or merge rule came from, for error messages.
struct Tokenizer::Locator {
  std::function<std::string(std::size_t id)> token;
  std::function<std::string(std::size_t rank)> merge;
  std::string vocab_name = "the vocabulary", merges_name = "the merge list";
};

Tokenizer::Tokenizer() : cache_(std::make_unique<Cache>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

bool is_special_spelling(std::string_view s) { return s.size() > 4 && s.starts_with("<|") && s.ends_with("|>"); }

// Control tokens that no merge makes: GPT-2's "<|endoftext|>", BART's "<s>", "</s>", "<pad>",
// "<unk>", "<mask>". Any "<...>" entry of ASCII letters, digits, '_', '|' and '/' counts.
bool is_control_token(std::string_view s) {
  if (s.size() < 3 || s.front() != '<' || s.back() != '>') return false;
  for (char c : s.substr(1, s.size() - 2)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '|' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Tokenizer Tokenizer::build(BpeModel model, const Locator& where) {
  Tokenizer t;
  t.model_ = std::move(model);
  const auto& tokens = t.model_.tokens;
  if (tokens.size() > static_cast<std::size_t>(INT32_MAX)) throw TokenizerError("vocabulary too large");

  t.index_.reserve(tokens.size());
  t.token_bytes_.resize(tokens.size());
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    const std::string& s = tokens[id];
    if (s.empty()) throw TokenizerError(where.token(id) + ": expected a non-empty token");
    if (!t.index_.emplace(s, static_cast<TokenId>(id)).second) {
      throw TokenizerError(where.token(id) + ": token " + in_quotes(s) + " appears twice");
    }
    if (is_special_spelling(s)) {
      t.specials_.emplace_back(s, static_cast<TokenId>(id));
      t.token_bytes_[id] = s;
      continue;
    }
    auto bytes = symbols_to_bytes(s);
    if (!bytes) {
      throw TokenizerError(where.token(id) + ": token " + in_quotes(s) +
                           " holds a character that is not one of the 256 byte-level symbols");
    }
    t.token_bytes_[id] = std::move(*bytes);
  }
  for (int b = 0; b < 256; ++b) {
    const std::string& sym = byte_symbol(static_cast<unsigned char>(b));
    auto it = t.index_.find(sym);
    if (it == t.index_.end()) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", b);
      throw TokenizerError(where.token(std::string::npos) + ": expected a token for every byte, but byte " + buf +
                           " (symbol " + in_quotes(sym) + ") has none");
    }
    t.byte_ids_[b] = it->second;
  }

  std::vector<MergeTable::Entry> rules;
  rules.reserve(t.model_.merges.size());
  std::unordered_map<std::uint64_t, std::size_t> seen;
  seen.reserve(t.model_.merges.size());
  std::string joined;
  for (std::size_t rank = 0; rank < t.model_.merges.size(); ++rank) {
    const auto& [left, right] = t.model_.merges[rank];
    auto find_part = [&](const std::string& part) {
      auto it = t.index_.find(part);
      if (it == t.index_.end() || is_special_spelling(part)) {
        throw TokenizerError(where.merge(rank) + ": expected a symbol of the vocabulary, got " + in_quotes(part));
      }
      return it->second;
    };
    const TokenId a = find_part(left), b = find_part(right);
    joined = left;
    joined += right;
    auto it = t.index_.find(joined);
    if (it == t.index_.end()) {
      throw TokenizerError(where.merge(rank) + ": the merged symbol " + in_quotes(joined) +
                           " is not in the vocabulary");
    }
    const std::uint64_t key = (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
    if (auto [pos, fresh] = seen.emplace(key, rank); !fresh) {
      throw TokenizerError(where.merge(rank) + ": merge " + in_quotes(left + " " + right) +
                           " is a repeat of an earlier one (" + where.merge(pos->second) + ")");
    }
    rules.push_back({a, b, it->second});
  }
  check_every_token_is_reachable(t, rules, where);
  t.merges_ = MergeTable(rules);
  return t;
}

// A consistent model: every vocabulary entry is one of the 256 byte symbols, the result of a
// merge, or a control token (so |vocabulary| = 256 + distinct merge results + control tokens).
// A truncated or foreign merges file leaves entries that no merge makes; loading it anyway would
// silently encode with fewer merges ("hello" as 3 ids instead of 1), so it is refused here.
void Tokenizer::check_every_token_is_reachable(const Tokenizer& t, const std::vector<MergeTable::Entry>& rules,
                                               const Locator& where) {
  const auto& tokens = t.model_.tokens;
  std::vector<bool> reachable(tokens.size(), false);
  for (TokenId id : t.byte_ids_) reachable[static_cast<std::size_t>(id)] = true;
  std::size_t results = 0;
  for (const auto& rule : rules) {
    if (!reachable[static_cast<std::size_t>(rule.result)]) ++results;
    reachable[static_cast<std::size_t>(rule.result)] = true;
  }
  std::size_t controls = 0, stray = 0, first_stray = 0;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (reachable[id]) continue;
    if (is_control_token(tokens[id])) {
      ++controls;
      continue;
    }
    if (stray++ == 0) first_stray = id;
  }
  if (stray == 0) return;
  throw TokenizerError(
      where.vocab_name + " and " + where.merges_name + " do not belong together: " + std::to_string(stray) +
      " of the " + std::to_string(tokens.size()) + " vocabulary entries are neither one of the 256 byte symbols, " +
      "the result of a merge, nor a control token like <|endoftext|> or <s>; the first is " +
      in_quotes(tokens[first_stray]) + " (id " + std::to_string(first_stray) + ", " + where.token(first_stray) +
      "). Expected 256 bytes + " + std::to_string(results) + " merge results + " + std::to_string(controls) +
      " control tokens = " + std::to_string(256 + results + controls) + " entries, found " +
      std::to_string(tokens.size()) + " (" + std::to_string(rules.size()) +
      " merges read): is the merges file truncated or from another model?");
}

Tokenizer Tokenizer::from_model(const BpeModel& model) {
  Locator where{
      [](std::size_t id) { return id == std::string::npos ? std::string("model") : "model token " + std::to_string(id); },
      [](std::size_t rank) { return "model merge " + std::to_string(rank); }};
  return build(model, where);
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges) {
  VocabFile vocab = read_vocab_json(vocab_json);  // first: a missing vocabulary is reported before the merges
  MergesFile merge_file = read_merges(merges);
  return from_parsed(std::move(vocab), std::move(merge_file));
}

Tokenizer Tokenizer::from_parsed(VocabFile vocab, MergesFile merges) {
  Locator where{[&](std::size_t id) { return id == std::string::npos ? vocab.name : vocab.where(id); },
                [&](std::size_t rank) { return merges.where(rank); }};
  where.vocab_name = vocab.name;
  where.merges_name = merges.name;
  BpeModel model{std::move(vocab.tokens), std::move(merges.merges)};
  return build(std::move(model), where);
}

Tokenizer Tokenizer::load_openai(const std::filesystem::path& dir) {
  return from_files(dir / "encoder.json", dir / "vocab.bpe");
}

Tokenizer Tokenizer::load_huggingface(const std::filesystem::path& dir) {
  return from_files(dir / "vocab.json", dir / "merges.txt");
}

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir / "vocab.json", ec) || std::filesystem::exists(dir / "merges.txt", ec)) {
    return load_huggingface(dir);
  }
  if (std::filesystem::exists(dir / "encoder.json", ec) || std::filesystem::exists(dir / "vocab.bpe", ec)) {
    return load_openai(dir);
  }
  throw TokenizerError("no tokenizer files in '" + dir.string() + "': expected vocab.json + merges.txt " +
                       "(Hugging Face) or encoder.json + vocab.bpe (OpenAI)");
}

const std::string& Tokenizer::token(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= model_.tokens.size()) {
    throw TokenizerError("token id " + std::to_string(id) + " is out of range: the vocabulary has ids 0.." +
                         std::to_string(model_.tokens.size() - 1));
  }
  return model_.tokens[id];
}

std::optional<TokenId> Tokenizer::find(std::string_view symbols) const {
  auto it = index_.find(symbols);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

TokenId Tokenizer::end_of_text_id() const {
  auto id = find(kEndOfText);
  if (!id) throw TokenizerError("the vocabulary has no " + std::string(kEndOfText) + " token");
  return *id;
}

void Tokenizer::encode_piece(std::string_view piece, std::vector<TokenId>& out) const {
  const std::size_t start = out.size();
  for (char c : piece) out.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  if (piece.size() == 1) return;
  thread_local std::vector<TokenId> symbols;
  symbols.assign(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  merges_.apply(symbols);
  out.resize(start);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void Tokenizer::encode_ordinary(std::string_view text, std::size_t base_offset, std::vector<TokenId>& out) const {
  PreTokenizer scanner(text, base_offset);
  std::string_view piece;
  std::unique_lock lock(cache_->mutex, std::try_to_lock);
  if (!lock.owns_lock()) {
    while (scanner.next(piece)) encode_piece(piece, out);
    return;
  }
  Cache& cache = *cache_;
  while (scanner.next(piece)) {
    if (auto it = cache.words.find(piece); it != cache.words.end()) {
      const auto* ids = cache.arena.data() + it->second.offset;
      out.insert(out.end(), ids, ids + it->second.length);
      continue;
    }
    const std::size_t start = out.size();
    encode_piece(piece, out);
    if (cache.words.size() >= Cache::kMaxEntries || cache.arena.size() > (1u << 30)) {
      cache.words.clear();
      cache.arena.clear();
    }
    const auto offset = static_cast<std::uint32_t>(cache.arena.size());
    cache.arena.insert(cache.arena.end(), out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
    cache.words.emplace(std::string(piece), Cache::Slice{offset, static_cast<std::uint32_t>(out.size() - start)});
  }
}

void Tokenizer::encode_into(std::string_view text, SpecialTokens special, std::vector<TokenId>& out) const {
  if (special == SpecialTokens::AsText || specials_.empty()) {
    encode_ordinary(text, 0, out);
    return;
  }
  // Split at each occurrence of a special token's text (the earliest; the longest on a tie).
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t best = std::string_view::npos, best_len = 0;
    TokenId best_id = -1;
    for (const auto& [s, id] : specials_) {
      const std::size_t at = text.find(s, pos);
      if (at < best || (at == best && at != std::string_view::npos && s.size() > best_len)) {
        best = at;
        best_len = s.size();
        best_id = id;
      }
    }
    if (best == std::string_view::npos) {
      encode_ordinary(text.substr(pos), pos, out);
      return;
    }
    encode_ordinary(text.substr(pos, best - pos), pos, out);
    out.push_back(best_id);
    pos = best + best_len;
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, SpecialTokens special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, special, out);
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  std::string out;
  for (TokenId id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= token_bytes_.size()) {
      throw TokenizerError("decode: token id " + std::to_string(id) + " is out of range: the vocabulary has ids 0.." +
                           std::to_string(token_bytes_.size() - 1));
    }
    out += token_bytes_[id];
  }
  return out;
}

void save_huggingface(const BpeModel& model, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw TokenizerError("cannot create directory '" + dir.string() + "': " + ec.message());
  write_vocab_json(model.tokens, dir / "vocab.json");
  write_merges(model.merges, dir / "merges.txt");
}

}  // namespace petl::tokenizer

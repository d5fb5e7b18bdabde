#include "tokenizer/model_dir.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tokenizer/error.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_files.h"

namespace petl::tokenizer {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A JSON file of the directory, or null when it is absent.
json read_optional_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json();
  const std::string text = read_file(path, "tokenizer file");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw TokenizerError(path.string() + ": expected valid JSON (" + e.what() + ")");
  }
}

std::string excerpt(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// The byte-level BPE of tokenizer.json's "model" (used when vocab.json and merges.txt are absent).
Tokenizer bpe_from_tokenizer_json(const json& tj, const fs::path& path) {
  const std::string where = path.string();
  if (!tj.is_object() || !tj.contains("model") || !tj["model"].is_object())
    throw TokenizerError(where + ": expected an object with a 'model' object");
  const json& model = tj["model"];
  if (model.value("type", std::string()) != "BPE")
    throw TokenizerError(where + ": 'model.type': expected \"BPE\", found " + excerpt(model.value("type", json())));
  if (!model.contains("vocab") || !model["vocab"].is_object())
    throw TokenizerError(where + ": 'model.vocab': expected an object {token: id}");
  const json& vocab = model["vocab"];
  BpeModel bpe;
  bpe.tokens.resize(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_unsigned() || id.get<std::uint64_t>() >= vocab.size())
      throw TokenizerError(where + ": 'model.vocab': token '" + token + "' has id " + excerpt(id) +
                           ", expected an id below " + std::to_string(vocab.size()));
    const auto i = id.get<std::size_t>();
    if (seen[i]) throw TokenizerError(where + ": 'model.vocab': id " + std::to_string(i) + " is used twice");
    seen[i] = true;
    bpe.tokens[i] = token;
  }
  const json merges = model.value("merges", json::array());
  if (!merges.is_array()) throw TokenizerError(where + ": 'model.merges': expected an array");
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    if (m.is_string()) {  // "left right" (older files)
      const std::string s = m.get<std::string>();
      const auto space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() || s.find(' ', space + 1) != std::string::npos)
        throw TokenizerError(where + ": 'model.merges' entry " + std::to_string(rank) +
                             ": expected two symbols separated by one space, found '" + s + "'");
      bpe.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["left", "right"]
      bpe.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw TokenizerError(where + ": 'model.merges' entry " + std::to_string(rank) +
                           ": expected \"left right\" or [\"left\", \"right\"], found " + excerpt(m));
    }
  }
  return Tokenizer::from_model(bpe);
}

TokenizerFamily family_of_class(const std::string& cls, const std::string& where) {
  if (cls == "GPT2Tokenizer" || cls == "GPT2TokenizerFast") return TokenizerFamily::Gpt2;
  if (cls == "BartTokenizer" || cls == "BartTokenizerFast" || cls == "RobertaTokenizer" || cls == "RobertaTokenizerFast")
    return TokenizerFamily::Bart;
  throw TokenizerError(where + ": 'tokenizer_class': expected GPT2Tokenizer, BartTokenizer or RobertaTokenizer " +
                       "(with or without Fast), found '" + cls + "'");
}

TokenizerFamily detect_family(const fs::path& dir, const json& config, const json& tokenizer_json) {
  if (config.is_object() && config.contains("tokenizer_class") && config["tokenizer_class"].is_string())
    return family_of_class(config["tokenizer_class"].get<std::string>(), (dir / "tokenizer_config.json").string());
  const json model_config = read_optional_json(dir / "config.json");
  if (model_config.is_object() && model_config.contains("model_type") && model_config["model_type"].is_string()) {
    const std::string type = model_config["model_type"].get<std::string>();
    if (type == "gpt2") return TokenizerFamily::Gpt2;
    if (type == "bart" || type == "roberta") return TokenizerFamily::Bart;
    throw TokenizerError((dir / "config.json").string() + ": 'model_type': expected gpt2, bart or roberta, found '" +
                         type + "'");
  }
  if (tokenizer_json.is_object() && tokenizer_json.contains("post_processor")) {
    const json& pp = tokenizer_json["post_processor"];
    if (pp.is_object() && pp.value("type", std::string()) == "RobertaProcessing") return TokenizerFamily::Bart;
    if (pp.is_null() || (pp.is_object() && pp.value("type", std::string()) == "ByteLevel")) return TokenizerFamily::Gpt2;
  }
  throw TokenizerError("cannot tell the tokenizer of '" + dir.string() +
                       "': expected tokenizer_config.json with 'tokenizer_class', config.json with 'model_type', " +
                       "or tokenizer.json with a post_processor");
}

// Unicode White_Space (what the tokenizers library's lstrip/rstrip remove: Rust's char::is_whitespace).
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

struct Role {
  const char* key;  // "bos_token", ...
  std::optional<TokenId> SpecialTokenIds::*slot;
};
constexpr Role kRoles[] = {
    {"bos_token", &SpecialTokenIds::bos}, {"eos_token", &SpecialTokenIds::eos}, {"unk_token", &SpecialTokenIds::unk},
    {"pad_token", &SpecialTokenIds::pad}, {"mask_token", &SpecialTokenIds::mask}, {"cls_token", &SpecialTokenIds::cls},
    {"sep_token", &SpecialTokenIds::sep},
};

// The family's defaults (transformers' GPT2Tokenizer / RobertaTokenizer constructor arguments).
std::vector<std::pair<std::string, std::string>> default_roles(TokenizerFamily family) {
  if (family == TokenizerFamily::Gpt2)
    return {{"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}, {"unk_token", "<|endoftext|>"}};
  return {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"},
          {"mask_token", "<mask>"}, {"cls_token", "<s>"}, {"sep_token", "</s>"}};
}

}  // namespace

ModelTokenizer ModelTokenizer::from_bpe(Tokenizer bpe, TokenizerFamily family) {
  ModelTokenizer t(std::move(bpe), family);
  for (const auto& [role, token] : default_roles(family)) {
    const std::string& content = token;  // a plain reference: clang 14 lambdas cannot capture bindings
    const auto id = t.bpe_.find(content);
    if (!id) throw TokenizerError("the vocabulary has no " + role + " '" + content + "'");
    for (const Role& r : kRoles)
      if (role == r.key) t.ids_.*r.slot = *id;
    if (std::none_of(t.added_.begin(), t.added_.end(), [&](const AddedToken& a) { return a.content == content; }))
      t.added_.push_back({content, *id});
  }
  t.add_bos_ = t.add_eos_ = family == TokenizerFamily::Bart;
  return t;
}

ModelTokenizer ModelTokenizer::load(const fs::path& dir) {
  const json config = read_optional_json(dir / "tokenizer_config.json");
  const json special_map = read_optional_json(dir / "special_tokens_map.json");
  const json tokenizer_json = read_optional_json(dir / "tokenizer.json");
  std::error_code ec;
  const bool has_vocab_files = fs::exists(dir / "vocab.json", ec) || fs::exists(dir / "merges.txt", ec);
  if (!has_vocab_files && tokenizer_json.is_null())
    throw TokenizerError("no tokenizer files in '" + dir.string() + "': expected vocab.json + merges.txt or tokenizer.json");
  Tokenizer bpe = has_vocab_files ? Tokenizer::load_huggingface(dir)
                                  : bpe_from_tokenizer_json(tokenizer_json, dir / "tokenizer.json");
  if (config.is_object() && config.value("add_prefix_space", false))
    throw TokenizerError((dir / "tokenizer_config.json").string() +
                         ": 'add_prefix_space': true is not supported (expected false, the GPT-2 and BART default)");

  ModelTokenizer t(std::move(bpe), detect_family(dir, config, tokenizer_json));
  const std::string vocab_name = has_vocab_files ? (dir / "vocab.json").string() : (dir / "tokenizer.json").string();

  // Added tokens by content, flags merged from every file that mentions them.
  std::vector<AddedToken> added;
  const auto upsert = [&](const std::string& content, const json& flags, std::optional<std::uint64_t> declared_id,
                          const std::string& where) -> AddedToken& {
    const auto id = t.bpe_.find(content);
    if (!id)
      throw TokenizerError(where + ": special token '" + content + "' is not in " + vocab_name +
                           " (petl needs every added token in the vocabulary)");
    if (declared_id && *declared_id != std::uint64_t(*id))
      throw TokenizerError(where + ": token '" + content + "' has id " + std::to_string(*declared_id) + ", but " +
                           vocab_name + " gives it id " + std::to_string(*id));
    auto it = std::find_if(added.begin(), added.end(), [&](const AddedToken& a) { return a.content == content; });
    if (it == added.end()) it = added.insert(added.end(), AddedToken{content, *id});
    if (flags.is_object()) {
      it->lstrip = flags.value("lstrip", it->lstrip);
      it->rstrip = flags.value("rstrip", it->rstrip);
      it->special = flags.value("special", it->special);
    }
    return *it;
  };

  // Roles: defaults, then tokenizer_config.json, then special_tokens_map.json.
  std::vector<std::pair<std::string, std::optional<std::string>>> roles;
  for (const auto& [role, content] : default_roles(t.family_)) roles.emplace_back(role, content);
  const auto apply_roles = [&](const json& file, const fs::path& path) {
    if (!file.is_object()) return;
    for (const Role& r : kRoles) {
      if (!file.contains(r.key)) continue;
      const json& v = file[r.key];
      std::optional<std::string> content;
      if (v.is_string()) content = v.get<std::string>();
      else if (v.is_object() && v.contains("content") && v["content"].is_string()) content = v["content"].get<std::string>();
      else if (!v.is_null())
        throw TokenizerError(path.string() + ": '" + r.key + "': expected a string, an object with \"content\" or null, found " +
                             excerpt(v));
      auto it = std::find_if(roles.begin(), roles.end(), [&](const auto& p) { return p.first == r.key; });
      if (it == roles.end()) roles.emplace_back(r.key, content);
      else it->second = content;
    }
  };
  apply_roles(config, dir / "tokenizer_config.json");
  apply_roles(special_map, dir / "special_tokens_map.json");
  for (const auto& [role, content] : roles) {
    if (!content) continue;
    AddedToken& a = upsert(*content, json(), std::nullopt, (dir / "tokenizer_config.json").string() + " (" + role + ")");
    for (const Role& r : kRoles)
      if (role == r.key) t.ids_.*r.slot = a.id;
  }
  // Flags: tokenizer.json's added_tokens, tokenizer_config.json's added_tokens_decoder, and role objects.
  if (tokenizer_json.is_object() && tokenizer_json.contains("added_tokens") && tokenizer_json["added_tokens"].is_array()) {
    for (const json& a : tokenizer_json["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string()) continue;
      const auto id = a.contains("id") && a["id"].is_number_unsigned() ? std::optional(a["id"].get<std::uint64_t>()) : std::nullopt;
      upsert(a["content"].get<std::string>(), a, id, (dir / "tokenizer.json").string());
    }
  }
  if (config.is_object() && config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
    for (const auto& [id_text, a] : config["added_tokens_decoder"].items()) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string()) continue;
      std::optional<std::uint64_t> id;
      try {
        id = std::stoull(id_text);
      } catch (const std::exception&) {
        throw TokenizerError((dir / "tokenizer_config.json").string() + ": 'added_tokens_decoder': expected numeric ids, found '" +
                             id_text + "'");
      }
      upsert(a["content"].get<std::string>(), a, id, (dir / "tokenizer_config.json").string());
    }
  }
  for (const json* file : {&config, &special_map}) {
    if (!file->is_object()) continue;
    for (const Role& r : kRoles)
      if (file->contains(r.key) && (*file)[r.key].is_object())
        upsert((*file)[r.key]["content"].get<std::string>(), (*file)[r.key], std::nullopt, dir.string());
  }
  t.added_ = std::move(added);

  if (t.family_ == TokenizerFamily::Bart) {
    t.add_bos_ = t.add_eos_ = true;
    if (!t.ids_.cls || !t.ids_.sep)
      throw TokenizerError(dir.string() + ": a BART tokenizer needs cls_token and sep_token (its <s> ... </s> framing)");
  } else if (config.is_object()) {
    t.add_bos_ = config.value("add_bos_token", false);
    t.add_eos_ = config.value("add_eos_token", false);
  }
  return t;
}

void ModelTokenizer::save(const fs::path& dir) const {
  save_huggingface(bpe_.model(), dir);
  json config = {{"tokenizer_class", family_ == TokenizerFamily::Bart ? "BartTokenizer" : "GPT2Tokenizer"},
                 {"add_prefix_space", false}};
  for (const Role& r : kRoles)
    config[r.key] = ids_.*r.slot ? json(bpe_.token(*(ids_.*r.slot))) : json(nullptr);
  if (family_ == TokenizerFamily::Gpt2) {
    config["add_bos_token"] = add_bos_;
    config["add_eos_token"] = add_eos_;
  }
  json decoder = json::object();
  for (const AddedToken& a : added_)
    decoder[std::to_string(a.id)] = {{"content", a.content}, {"lstrip", a.lstrip},    {"rstrip", a.rstrip},
                                     {"normalized", false},  {"single_word", false}, {"special", a.special}};
  config["added_tokens_decoder"] = decoder;
  write_file_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
}

std::vector<TokenId> ModelTokenizer::encode(std::string_view text) const {
  std::vector<TokenId> out;
  // next[i]: where added_[i] occurs next at or after pos (npos: nowhere), found lazily.
  std::vector<std::size_t> next(added_.size(), 0);
  std::vector<bool> known(added_.size(), false);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t best = std::string_view::npos, best_len = 0, which = 0;
    for (std::size_t i = 0; i < added_.size(); ++i) {
      if (!known[i] || (next[i] != std::string_view::npos && next[i] < pos)) {
        next[i] = text.find(added_[i].content, pos);
        known[i] = true;
      }
      const std::size_t at = next[i];
      if (at == std::string_view::npos) continue;
      if (at < best || (at == best && added_[i].content.size() > best_len)) {
        best = at;
        best_len = added_[i].content.size();
        which = i;
      }
    }
    if (best == std::string_view::npos) {
      bpe_.encode_into(text.substr(pos), SpecialTokens::AsText, out);
      break;
    }
    const AddedToken& token = added_[which];
    std::size_t start = best, end = best + best_len;
    if (token.lstrip) {  // take the whitespace run that ends at the match (not crossing pos)
      std::size_t p = pos, run = pos;
      while (p < best) {
        const char32_t c = utf8::decode(text, p);
        if (!is_white_space(c)) run = p;
      }
      start = run;
    }
    if (token.rstrip) {
      std::size_t p = end;
      while (p < text.size()) {
        std::size_t q = p;
        if (!is_white_space(utf8::decode(text, q))) break;
        p = q;
      }
      end = p;
    }
    bpe_.encode_into(text.substr(pos, start - pos), SpecialTokens::AsText, out);
    out.push_back(token.id);
    pos = end;
    if (pos == text.size()) break;
  }
  return out;
}

std::vector<TokenId> ModelTokenizer::frame(std::vector<TokenId> ids) const {
  const std::optional<TokenId> first = family_ == TokenizerFamily::Bart ? ids_.cls : ids_.bos;
  const std::optional<TokenId> last = family_ == TokenizerFamily::Bart ? ids_.sep : ids_.eos;
  if (add_bos_ && first) ids.insert(ids.begin(), *first);
  if (add_eos_ && last) ids.push_back(*last);
  return ids;
}

std::vector<TokenId> ModelTokenizer::encode_source(std::string_view text) const { return frame(encode(text)); }

std::vector<TokenId> ModelTokenizer::encode_target(std::string_view text) const { return frame(encode(text)); }

std::string ModelTokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  if (!skip_special) return bpe_.decode(ids);
  std::vector<TokenId> kept;
  for (TokenId id : ids)
    if (std::none_of(added_.begin(), added_.end(), [&](const AddedToken& a) { return a.special && a.id == id; }))
      kept.push_back(id);
  return bpe_.decode(kept);
}

}  // namespace petl::tokenizer

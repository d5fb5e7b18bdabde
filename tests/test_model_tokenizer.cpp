// The tokenizer of a model directory (tokenizer/model_dir.h) against transformers' GPT2Tokenizer and
// BartTokenizer on tiny vocabularies (tools/oracle/tokenizer_fixtures.py wrote the directories and
// the ids in tests/fixtures/model_tokenizer/).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/error.h"
#include "tokenizer/model_dir.h"

using namespace petl::tokenizer;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = "tests/fixtures/model_tokenizer";

nlohmann::json expected() {
  std::ifstream in(kDir / "expected.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

std::string load_error(const fs::path& dir) {
  try {
    ModelTokenizer::load(dir);
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every fixture directory gives transformers' input_ids, labels and decoded text") {
  const nlohmann::json all = expected();
  CHECK(all.size() == 5);
  for (const auto& item : all.items()) {
    const std::string name = item.key();
    const nlohmann::json& cases = item.value();
    const ModelTokenizer tok = ModelTokenizer::load(kDir / name);
    for (const auto& c : cases) {
      const std::string text = c["text"].get<std::string>();
      INFO(name << ": " << text);
      const auto ids = tok.encode_source(text);
      CHECK(ids == c["input_ids"].get<std::vector<TokenId>>());
      CHECK(tok.encode_target(text) == c["labels"].get<std::vector<TokenId>>());
      CHECK(tok.decode(ids, /*skip_special=*/true) == c["decoded"].get<std::string>());
    }
  }
}

TEST_CASE("BART specials and framing, and GPT-2 with neither") {
  const ModelTokenizer bart = ModelTokenizer::load(kDir / "bart_hub");
  CHECK(bart.family() == TokenizerFamily::Bart);
  const SpecialTokenIds& s = bart.special_ids();
  CHECK(*s.bos == 0);
  CHECK(*s.pad == 1);
  CHECK(*s.eos == 2);
  CHECK(*s.unk == 3);
  CHECK(*s.mask == int(bart.vocab_size()) - 1);  // 50264 in bart-large's 50265 entries
  CHECK(*s.cls == 0);
  CHECK(*s.sep == 2);
  const auto mask = std::find_if(bart.added_tokens().begin(), bart.added_tokens().end(),
                                 [](const AddedToken& a) { return a.content == "<mask>"; });
  REQUIRE(mask != bart.added_tokens().end());
  CHECK(mask->lstrip);
  CHECK(!ModelTokenizer::load(kDir / "bart_plain").added_tokens().back().lstrip);
  CHECK(bart.encode_source("").size() == 2);

  const ModelTokenizer gpt2 = ModelTokenizer::load(kDir / "gpt2_plain");
  CHECK(gpt2.family() == TokenizerFamily::Gpt2);
  CHECK(*gpt2.special_ids().eos == int(gpt2.vocab_size()) - 1);
  CHECK(*gpt2.special_ids().bos == *gpt2.special_ids().eos);
  CHECK(!gpt2.special_ids().pad);
  CHECK(gpt2.encode_source("").empty());
  CHECK(gpt2.encode_source("Hello") == gpt2.bpe().encode("Hello", SpecialTokens::AsText));
}

TEST_CASE("save writes a directory that loads back to the same tokenizer") {
  // tools/oracle/tokenizer_fixtures.py --check sets PETL_TOKENIZER_OUT and loads these directories
  // with transformers; otherwise they go to a scratch directory.
  const char* out = std::getenv("PETL_TOKENIZER_OUT");
  const fs::path root = out ? fs::path(out) : fs::temp_directory_path() / ("petl_tok_save_" + std::to_string(::getpid()));
  const nlohmann::json all = expected();
  for (const char* name : {"gpt2_saved", "bart_hub"}) {
    INFO(name);
    const ModelTokenizer original = ModelTokenizer::load(kDir / name);
    fs::remove_all(root / name);
    original.save(root / name);
    const ModelTokenizer again = ModelTokenizer::load(root / name);
    CHECK(again.family() == original.family());
    CHECK(again.added_tokens().size() == original.added_tokens().size());
    for (const auto& c : all[name]) {
      const std::string text = c["text"].get<std::string>();
      CHECK(again.encode_source(text) == c["input_ids"].get<std::vector<TokenId>>());
    }
  }
  if (!out) fs::remove_all(root);
}

TEST_CASE("tokenizer directories that cannot be used are errors naming the file and the field") {
  const fs::path dir = fs::temp_directory_path() / ("petl_model_tok_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  CHECK(load_error(dir).find("no tokenizer files") != std::string::npos);

  for (const char* f : {"vocab.json", "merges.txt"}) fs::copy_file(kDir / "bart_plain" / f, dir / f);
  CHECK(load_error(dir).find("cannot tell the tokenizer") != std::string::npos);

  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": "T5Tokenizer"})";
  CHECK(load_error(dir).find("'tokenizer_class': expected GPT2Tokenizer") != std::string::npos);

  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": "BartTokenizer", "mask_token": "<MASK>"})";
  CHECK(load_error(dir).find("special token '<MASK>' is not in") != std::string::npos);

  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": "BartTokenizer", "added_tokens_decoder": {"7": {"content": "<mask>"}}})";
  CHECK(load_error(dir).find("token '<mask>' has id 7") != std::string::npos);

  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": "BartTokenizer", "add_prefix_space": true})";
  CHECK(load_error(dir).find("'add_prefix_space': true is not supported") != std::string::npos);

  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": )";
  CHECK(load_error(dir).find("tokenizer_config.json: expected valid JSON") != std::string::npos);

  // A GPT-2 vocabulary asked to be BART lacks <s>.
  fs::remove(dir / "tokenizer_config.json");
  for (const char* f : {"vocab.json", "merges.txt"}) fs::copy_file(kDir / "gpt2_plain" / f, dir / f, fs::copy_options::overwrite_existing);
  std::ofstream(dir / "config.json") << R"({"model_type": "bart"})";
  CHECK(load_error(dir).find("special token '<s>' is not in") != std::string::npos);
  fs::remove_all(dir);
}

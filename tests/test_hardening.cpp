// Regression tests for issue 7 §1: bad input gets a clear petl::Error, never a crash and never a
// silently wrong result. Each case here failed (or crashed) on the code before the fix.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/tensor_helpers.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/error.h"

using namespace petl;
using doctest::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh, empty directory removed again at the end of the scope.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() / ("petl_hardening_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The message of the petl::Error that f throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- tokenizer files

TEST_CASE("tokenizer: a truncated or empty GPT-2 vocab.bpe is refused, not loaded with fewer merges") {
  using namespace petl::tokenizer;
  const fs::path gpt2 = testing::shared_data("gpt2");
  if (!fs::exists(gpt2 / "vocab.bpe")) PETL_SKIP("shared data absent: " + (gpt2 / "vocab.bpe").string());
  ScratchDir dir;
  fs::copy_file(gpt2 / "encoder.json", dir.path / "encoder.json");
  const std::string merges = read_text(gpt2 / "vocab.bpe");

  // Only the first 10000 merges: "hello world" would become 12758 78 995 instead of 31373 995.
  std::size_t cut = 0;
  for (int line = 0; line <= 10000; ++line) cut = merges.find('\n', cut) + 1;
  write_text(dir.path / "vocab.bpe", merges.substr(0, cut));
  std::string msg = error_of([&] { Tokenizer::load_openai(dir.path); });
  CHECK(contains(msg, (dir.path / "encoder.json").string()));
  CHECK(contains(msg, (dir.path / "vocab.bpe").string()));
  CHECK(contains(msg, "40000 of the 50257 vocabulary entries are neither"));
  CHECK(contains(msg, "256 bytes + 10000 merge results + 1 control tokens = 10257 entries, found 50257"));
  CHECK(contains(msg, "truncated"));

  write_text(dir.path / "vocab.bpe", "");
  msg = error_of([&] { Tokenizer::load_openai(dir.path); });
  CHECK(contains(msg, "50000 of the 50257 vocabulary entries"));
  CHECK(contains(msg, "(0 merges read)"));

  // The intact pair loads and encodes as GPT-2 does.
  write_text(dir.path / "vocab.bpe", merges);
  const Tokenizer tok = Tokenizer::load_openai(dir.path);
  CHECK(tok.encode("hello world", SpecialTokens::AsText) == std::vector<TokenId>{31373, 995});
}

TEST_CASE("tokenizer: a merges file from another model is refused, naming the first stray entry") {
  using namespace petl::tokenizer;
  ScratchDir dir;
  const BpeModel model = train_bpe("low low low lower lowest newer newest wider", TrainerOptions{.vocab_size = 266});
  REQUIRE(model.merges.size() >= 4);
  save_huggingface(model, dir.path);
  REQUIRE_NOTHROW(Tokenizer::load_huggingface(dir.path));
  // Drop the last merge: its result is now an entry that no merge makes.
  BpeModel cut = model;
  const auto last = cut.merges.back();
  cut.merges.pop_back();
  save_huggingface(BpeModel{model.tokens, cut.merges}, dir.path);
  const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
  CHECK(contains(msg, "1 of the " + std::to_string(model.tokens.size()) + " vocabulary entries"));
  CHECK(contains(msg, "'" + last.first + last.second + "'"));
  CHECK(contains(msg, (dir.path / "vocab.json").string() + ":"));
  CHECK_THROWS_AS(Tokenizer::from_model(BpeModel{model.tokens, cut.merges}), Error);
  // Control tokens spelled like BART's are not merge results and need none.
  BpeModel bart_like = model;
  for (const char* special : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}) bart_like.tokens.emplace_back(special);
  CHECK_NOTHROW(Tokenizer::from_model(bart_like));
}

TEST_CASE("tokenizer: vocabulary errors give the byte offset, not only 'line 1'") {
  using namespace petl::tokenizer;
  ScratchDir dir;
  const fs::path vocab = dir.path / "vocab.json";
  write_text(dir.path / "merges.txt", "#version: 0.2\n");
  write_text(vocab, R"({"a": 0, "b" 1})");
  CHECK(contains(error_of([&] { Tokenizer::load_huggingface(dir.path); }), vocab.string() + ":1 (byte 13): expected ':'"));
  write_text(vocab, R"({"a": 0, "b": 1, "a": 2})");
  const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
  CHECK(contains(msg, vocab.string() + ":1 (byte 17): token 'a' appears a second time (first on line 1, byte 1)"));
  // The tokenizer's errors are petl::Errors, so one catch handles every bad input.
  CHECK_THROWS_AS(Tokenizer::load_huggingface(dir.path), Error);
}

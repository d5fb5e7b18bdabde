// GPT-2 byte-level BPE tokenizer and trainer (tokenizer/).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/skip.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace fs = std::filesystem;
using namespace petl::tokenizer;

namespace {

fs::path gpt2_dir() { return petl::testing::shared_data("gpt2"); }
bool have_gpt2() { return fs::exists(gpt2_dir() / "encoder.json") && fs::exists(gpt2_dir() / "vocab.bpe"); }

// The GPT-2 tokenizer, loaded once for the whole test binary.
const Tokenizer& gpt2() {
  static const Tokenizer tok = Tokenizer::load_openai(gpt2_dir());
  return tok;
}

// A fresh, empty directory removed again at the end of the scope.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() /
           ("petl_tokenizer_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> pieces_of(std::string_view text) {
  std::vector<std::string> out;
  for (auto p : pretokenize(text)) out.emplace_back(p);
  return out;
}

// The message of the TokenizerError that f throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The corpus of the classic BPE example (Sennrich et al.), one word per text so that no
// pre-token carries a leading space: low x5, lower x2, newest x6, widest x3.
std::vector<std::string_view> low_lower_newest_widest() {
  std::vector<std::string_view> texts;
  for (int i = 0; i < 5; ++i) texts.push_back("low");
  for (int i = 0; i < 2; ++i) texts.push_back("lower");
  for (int i = 0; i < 6; ++i) texts.push_back("newest");
  for (int i = 0; i < 3; ++i) texts.push_back("widest");
  return texts;
}

// Random valid UTF-8 mixing ASCII, whitespace, Latin, CJK, combining marks and astral symbols.
std::string random_utf8(std::mt19937& rng, int length) {
  static const char32_t pool[] = {'a', 'Z', '0', ' ', ' ', '\n', '\t', '\'', '.', '!', 0xA0, 0xE9, 0x301,
                                  0x4E2D, 0x3042, 0xAC00, 0x2028, 0x3000, 0xFEFF, 0x1F600, 0x1F3FD, 0x200D, 0x10FFFF};
  std::uniform_int_distribution<int> pick(0, static_cast<int>(std::size(pool)) - 1);
  std::uniform_int_distribution<int> any(0x80, 0x10FFFF);
  std::string s;
  for (int i = 0; i < length; ++i) {
    char32_t cp = pool[pick(rng)];
    if (pick(rng) == 0) {
      cp = static_cast<char32_t>(any(rng));
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    }
    utf8::append(s, cp);
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------- reference compatibility

TEST_CASE("GPT-2 reference encodings: identical ids and exact round trip for every line") {
  const fs::path data = petl::testing::shared_data("tokenizer/gpt2_encodings.jsonl");
  if (!fs::exists(data)) PETL_SKIP("shared data absent: " + data.string());
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  std::ifstream in(data);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    const auto j = nlohmann::json::parse(line);
    const std::string text = j.at("text").get<std::string>();
    const std::vector<TokenId> want = j.at("ids").get<std::vector<TokenId>>();
    INFO("line " << lines << ": " << j.at("text").dump());
    const std::vector<TokenId> got = tok.encode(text, SpecialTokens::AsText);
    CHECK(got == want);
    CHECK(tok.decode(got) == text);
    CHECK(tok.decode(want) == text);
  }
  CHECK(lines == 447);
}

TEST_CASE("GPT-2 known encodings") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  CHECK(tok.vocab_size() == 50257);
  CHECK(tok.merge_table().size() == 50000);
  CHECK(tok.merge_table().creation_ordered());
  CHECK(tok.encode("Hello world", SpecialTokens::AsText) == std::vector<TokenId>{15496, 995});
  CHECK(tok.encode("", SpecialTokens::AsText).empty());
  CHECK(tok.token(995) == "Ġworld");
  CHECK(tok.find("Ġworld") == 995);
  CHECK_FALSE(tok.find("no such token").has_value());
  CHECK(tok.byte_id(' ') == 220);
  CHECK(tok.byte_id('!') == 0);
  // whitespace runs: the space before a word stays with the word
  CHECK(tok.encode("a   b", SpecialTokens::AsText) == std::vector<TokenId>{64, 220, 220, 275});
  CHECK(tok.encode("a\n\n", SpecialTokens::AsText) == std::vector<TokenId>{64, 628});
}

TEST_CASE("round trip of random UTF-8 text through GPT-2") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = random_utf8(rng, static_cast<int>(rng() % 40));
    const auto ids = tok.encode(s, SpecialTokens::AsText);
    REQUIRE(tok.decode(ids) == s);
    for (TokenId id : ids) REQUIRE((id >= 0 && id < 50256));
  }
}

TEST_CASE("the heap merge loop agrees with the reference loop on long pre-tokens") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  std::mt19937 rng(99);
  const std::string alphabets[] = {"abcdefghijklmnopqrstuvwxyz", "etaoinshr", "aab", ".,;:!?\"'()-", "0123456789"};
  for (int round = 0; round < 300; ++round) {
    const std::string& alpha = alphabets[round % std::size(alphabets)];
    std::vector<TokenId> simple, heap;
    const int n = 2 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) simple.push_back(tok.byte_id(static_cast<unsigned char>(alpha[rng() % alpha.size()])));
    heap = simple;
    tok.merge_table().apply_simple(simple);
    tok.merge_table().apply_heap(heap);
    REQUIRE(simple == heap);
  }
  // and through encode(): a 5000-letter word takes the heap path and still round-trips
  std::string word;
  for (int i = 0; i < 5000; ++i) word += static_cast<char>('a' + rng() % 26);
  const auto ids = tok.encode(word, SpecialTokens::AsText);
  CHECK(tok.decode(ids) == word);
  std::vector<TokenId> simple;
  for (char c : word) simple.push_back(tok.byte_id(static_cast<unsigned char>(c)));
  tok.merge_table().apply_simple(simple);
  CHECK(ids == simple);
}

TEST_CASE("merge lists where a rule uses a symbol created later keep the reference semantics") {
  // Rule 0 (ab, a) uses "ab", which only rule 1 creates. The reference loop merges every (a, b)
  // first, leaving "ab ab ..."; a heap that merged greedily would build "aba" at once.
  BpeModel model;
  for (int b = 0; b < 256; ++b) model.tokens.push_back(byte_symbol(static_cast<unsigned char>(b)));
  model.tokens.push_back("ab");
  model.tokens.push_back("aba");
  model.merges = {{"ab", "a"}, {"a", "b"}};
  const Tokenizer tok = Tokenizer::from_model(model);
  CHECK_FALSE(tok.merge_table().creation_ordered());
  const TokenId ab = *tok.find("ab");
  for (int pairs : {2, 10, 100}) {  // short (reference loop) and long (would be heap) pre-tokens
    std::string word;
    for (int i = 0; i < pairs; ++i) word += "ab";
    CHECK(tok.encode(word, SpecialTokens::AsText) == std::vector<TokenId>(pairs, ab));
  }
  // while "aba" does become one symbol: after (a, b), the pair (ab, a) is present and ranks first
  CHECK(tok.encode("aba", SpecialTokens::AsText) == std::vector<TokenId>{*tok.find("aba")});
}

TEST_CASE("the word cache gives the same ids as a fresh tokenizer") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  const std::string text = "The the THE the. the' the's the the  the\nthe";
  const auto first = tok.encode(text, SpecialTokens::AsText);
  const auto second = tok.encode(text, SpecialTokens::AsText);
  CHECK(first == second);
  const Tokenizer fresh = Tokenizer::load_openai(gpt2_dir());
  CHECK(fresh.encode(text, SpecialTokens::AsText) == first);
}

// ---------------------------------------------------------------- layouts and files

TEST_CASE("OpenAI and Hugging Face layouts load the same GPT-2 model") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  TempDir dir;
  fs::copy_file(gpt2_dir() / "encoder.json", dir.path / "vocab.json");
  fs::copy_file(gpt2_dir() / "vocab.bpe", dir.path / "merges.txt");
  const Tokenizer hf = Tokenizer::load_huggingface(dir.path);
  const Tokenizer detected = Tokenizer::load(dir.path);
  const Tokenizer& openai = gpt2();
  CHECK(hf.model().tokens == openai.model().tokens);
  CHECK(hf.model().merges == openai.model().merges);
  const std::string texts[] = {"Hello world", "The Eagle is a coffee shop near Burger King.", "日本語 café 😀 x=42;",
                               "  \t \n  ", "<|endoftext|> done"};
  for (const auto& t : texts) {
    CHECK(hf.encode(t, SpecialTokens::AsText) == openai.encode(t, SpecialTokens::AsText));
    CHECK(hf.encode(t, SpecialTokens::Allow) == openai.encode(t, SpecialTokens::Allow));
    CHECK(detected.encode(t, SpecialTokens::AsText) == openai.encode(t, SpecialTokens::AsText));
  }
  CHECK(Tokenizer::load(gpt2_dir()).vocab_size() == 50257);  // detects the OpenAI names too

  // Saving GPT-2 in the Hugging Face layout (our writer) and loading it back.
  TempDir saved;
  save_huggingface(openai.model(), saved.path);
  const Tokenizer again = Tokenizer::load_huggingface(saved.path);
  CHECK(again.model().tokens == openai.model().tokens);
  CHECK(again.model().merges == openai.model().merges);
  CHECK(again.encode("round trip through our writer", SpecialTokens::AsText) ==
        openai.encode("round trip through our writer", SpecialTokens::AsText));
}

TEST_CASE("a missing file is an error naming its path") {
  TempDir dir;
  const std::string msg = error_of([&] { Tokenizer::load_openai(dir.path); });
  CHECK(contains(msg, (dir.path / "encoder.json").string()));
  const std::string msg2 = error_of([&] { Tokenizer::load_huggingface(dir.path / "nowhere"); });
  CHECK(contains(msg2, (dir.path / "nowhere" / "vocab.json").string()));
  const std::string msg3 = error_of([&] { Tokenizer::load(dir.path); });
  CHECK(contains(msg3, dir.path.string()));
  // vocabulary present, merges missing
  save_huggingface(train_bpe("aa bb", TrainerOptions{.vocab_size = 258}), dir.path);
  fs::remove(dir.path / "merges.txt");
  const std::string msg4 = error_of([&] { Tokenizer::load_huggingface(dir.path); });
  CHECK(contains(msg4, (dir.path / "merges.txt").string()));
}

TEST_CASE("malformed merges and vocabulary files: errors name the file and the line") {
  TempDir dir;
  const BpeModel model = train_bpe("low low low lower", TrainerOptions{.vocab_size = 262});
  REQUIRE(model.merges.size() >= 3);
  save_huggingface(model, dir.path);
  const fs::path vocab = dir.path / "vocab.json", merges = dir.path / "merges.txt";
  REQUIRE_NOTHROW(Tokenizer::load_huggingface(dir.path));
  const std::string good_merges = "#version: 0.2\n" + model.merges[0].first + " " + model.merges[0].second + "\n";

  SUBCASE("a line that is not two symbols") {
    write_text(merges, good_merges + "just-one-symbol\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, merges.string() + ":3"));
    CHECK(contains(msg, "expected two symbols"));
    write_text(merges, good_merges + "a b c\n");
    CHECK(contains(error_of([&] { Tokenizer::load_huggingface(dir.path); }), merges.string() + ":3"));
  }
  SUBCASE("a symbol that is not in the vocabulary") {
    write_text(merges, good_merges + "\n" + "Ġ unknownsymbol\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, merges.string() + ":4"));
    CHECK(contains(msg, "unknownsymbol"));
  }
  SUBCASE("a merged symbol that is not in the vocabulary") {
    write_text(merges, good_merges + "x y\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, merges.string() + ":3"));
    CHECK(contains(msg, "'xy'"));
  }
  SUBCASE("a repeated merge") {
    write_text(merges, good_merges + model.merges[0].first + " " + model.merges[0].second + "\n");
    CHECK(contains(error_of([&] { Tokenizer::load_huggingface(dir.path); }), merges.string() + ":3"));
  }
  SUBCASE("vocabulary: broken JSON") {
    write_text(vocab, "{\n  \"a\": 0,\n  \"b\" 1\n}\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, vocab.string() + ":3"));
    CHECK(contains(msg, "expected ':'"));
  }
  SUBCASE("vocabulary: an id that is not an integer") {
    write_text(vocab, "{\n  \"a\": 0,\n  \"b\": 1.5\n}\n");
    CHECK(contains(error_of([&] { Tokenizer::load_huggingface(dir.path); }), vocab.string() + ":3"));
  }
  SUBCASE("vocabulary: a repeated id") {
    write_text(vocab, "{\n  \"a\": 0,\n  \"b\": 1,\n  \"c\": 1\n}\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, vocab.string() + ":4"));
    CHECK(contains(msg, "line 3"));
  }
  SUBCASE("vocabulary: ids with a gap") {
    write_text(vocab, "{\"a\": 0, \"b\": 2}");
    CHECK(contains(error_of([&] { Tokenizer::load_huggingface(dir.path); }), vocab.string() + ":1"));
  }
  SUBCASE("vocabulary: a token that is not made of byte symbols") {
    write_text(vocab, "{\n\"a\": 0,\n\"\\u4e2d\": 1\n}");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, vocab.string() + ":3"));
  }
  SUBCASE("vocabulary: a byte without its token") {
    write_text(vocab, "{\"a\": 0}");
    write_text(merges, "#version: 0.2\n");
    const std::string msg = error_of([&] { Tokenizer::load_huggingface(dir.path); });
    CHECK(contains(msg, vocab.string()));
    CHECK(contains(msg, "byte 0x"));
  }
}

// ---------------------------------------------------------------- pre-tokenizer and tables

TEST_CASE("pre-tokenizer follows the GPT-2 pattern exactly") {
  using V = std::vector<std::string>;
  CHECK(pieces_of("Hello world") == V{"Hello", " world"});
  CHECK(pieces_of("a   b") == V{"a", "  ", " b"});
  CHECK(pieces_of("trailing   ") == V{"trailing", "   "});
  CHECK(pieces_of("  two") == V{" ", " two"});
  CHECK(pieces_of("many\n\n\nnewlines") == V{"many", "\n\n", "\n", "newlines"});
  CHECK(pieces_of("a \t\nb") == V{"a", " \t", "\n", "b"});
  CHECK(pieces_of("x\t b") == V{"x", "\t", " b"});
  CHECK(pieces_of("I'm we're they've you'll he'd it's 't") ==
        V{"I", "'m", " we", "'re", " they", "'ve", " you", "'ll", " he", "'d", " it", "'s", " '", "t"});
  CHECK(pieces_of("DON'T") == V{"DON", "'", "T"});      // contractions are lower case only
  CHECK(pieces_of("'sup") == V{"'s", "up"});
  CHECK(pieces_of("''quoted''") == V{"''", "quoted", "''"});
  CHECK(pieces_of("abc123def 3.14") == V{"abc", "123", "def", " 3", ".", "14"});
  CHECK(pieces_of("x=-7.5e-3;") == V{"x", "=-", "7", ".", "5", "e", "-", "3", ";"});
  CHECK(pieces_of("café") == V{"café"});
  CHECK(pieces_of("cafe\xCC\x81 x") == V{"cafe", "\xCC\x81", " x"});  // U+0301 is \p{M}: a symbol
  CHECK(pieces_of("日本語のテキスト") == V{"日本語のテキスト"});
  CHECK(pieces_of("٣٤ Ⅷ ²") == V{"٣٤", " Ⅷ", " ²"});              // \p{N}: Nd, Nl, No
  CHECK(pieces_of("a\xC2\xA0" "b") == V{"a", "\xC2\xA0", "b"});       // NBSP is \s
  CHECK(pieces_of("a\xE2\x80\x8B" "b") == V{"a", "\xE2\x80\x8B", "b"});  // ZWSP is not \s
  CHECK(pieces_of("a\xEF\xBB\xBF" "b") == V{"a", "\xEF\xBB\xBF", "b"});  // U+FEFF is JS \s
  CHECK(pieces_of("a\xC2\x85" "b") == V{"a", "\xC2\x85", "b"});       // U+0085 is not JS \s: a symbol
  CHECK(pieces_of("a \xC2\x85") == V{"a", " \xC2\x85"});
  CHECK(pieces_of("😀🎉 👍") == V{"😀🎉", " 👍"});
  CHECK(pieces_of("𝐀𝐁 x") == V{"𝐀𝐁", " x"});                         // astral letters
  CHECK(pieces_of(" ") == V{" "});
  CHECK(pieces_of("").empty());
}

TEST_CASE("unicode class tables") {
  using unicode::CharClass;
  using unicode::classify;
  CHECK(classify('a') == CharClass::Letter);
  CHECK(classify(0x00AA) == CharClass::Letter);   // ª, Lo
  CHECK(classify(0x01C5) == CharClass::Letter);   // ǅ, Lt
  CHECK(classify(0x02B0) == CharClass::Letter);   // ʰ, Lm
  CHECK(classify(0x0301) == CharClass::Other);    // combining acute, Mn
  CHECK(classify(0x0903) == CharClass::Other);    // Devanagari visarga, Mc
  CHECK(classify(0x0663) == CharClass::Number);   // Arabic-Indic three, Nd
  CHECK(classify(0x2167) == CharClass::Number);   // Roman numeral eight, Nl
  CHECK(classify(0x00BD) == CharClass::Number);   // ½, No
  CHECK(classify(0x20000) == CharClass::Letter);  // CJK extension B
  CHECK(classify(0x1D7CE) == CharClass::Number);  // mathematical bold digit zero
  CHECK(classify(0x1F600) == CharClass::Other);
  CHECK(classify(0x0378) == CharClass::Other);    // unassigned
  for (char32_t cp : {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F,
                      0x205F, 0x3000, 0xFEFF}) {
    CHECK(classify(cp) == CharClass::Space);
  }
  for (char32_t cp : {0x1C, 0x1F, 0x85, 0x180E, 0x200B}) CHECK(classify(cp) == CharClass::Other);
  // the tables are sorted, disjoint and non-adjacent
  for (auto ranges : {unicode::letter_ranges(), unicode::number_ranges(), unicode::space_ranges()}) {
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      CHECK(ranges[i].first <= ranges[i].last);
      if (i > 0) CHECK(ranges[i - 1].last + 1 < ranges[i].first);
    }
  }
  CHECK(std::string(unicode::table_unicode_version()).starts_with("Unicode "));
}

TEST_CASE("byte-to-unicode table") {
  CHECK(byte_symbol(' ') == "Ġ");
  CHECK(byte_symbol('\n') == "Ċ");
  CHECK(byte_symbol(0) == "Ā");
  CHECK(byte_symbol('A') == "A");
  CHECK(byte_to_unicode(0xAD) == 0x143);  // soft hyphen is the last remapped byte
  int identity = 0;
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = byte_to_unicode(static_cast<unsigned char>(b));
    identity += cp == static_cast<char32_t>(b);
    REQUIRE(unicode_to_byte(cp) == static_cast<unsigned char>(b));
  }
  CHECK(identity == 188);
  CHECK_FALSE(unicode_to_byte(0x144).has_value());
  CHECK_FALSE(unicode_to_byte(' ').has_value());
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  CHECK(symbols_to_bytes(bytes_to_symbols(all)) == all);
  CHECK(bytes_to_symbols("Hello world\n") == "HelloĠworldĊ");
}

// ---------------------------------------------------------------- bad input

TEST_CASE("invalid UTF-8 in encode is an error naming the byte offset") {
  const Tokenizer tok = Tokenizer::from_model(train_bpe("some text", TrainerOptions{.vocab_size = 260}));
  struct Case {
    std::string text;
    std::size_t offset;
  };
  const Case cases[] = {
      {"abc\x80", 3},             // continuation byte without a lead
      {"ab \xC0\x80", 3},         // overlong NUL
      {"x\xE0\x80\xAF", 1},       // overlong 3-byte form
      {"hi \xED\xA0\x80 there", 3},  // UTF-16 surrogate
      {"\xF4\x90\x80\x80", 0},    // above U+10FFFF
      {"ok\xF5\x80\x80\x80", 2},  // never valid
      {"cut \xE2\x82", 4},        // truncated
      {"e\xCC", 1},               // truncated after a letter
      {"a\xC3(", 1},              // lead byte then ASCII
  };
  for (const auto& c : cases) {
    INFO("offset " << c.offset);
    for (auto mode : {SpecialTokens::AsText, SpecialTokens::Allow}) {
      const std::string msg = error_of([&] { tok.encode(c.text, mode); });
      CHECK(contains(msg, "invalid UTF-8"));
      CHECK(contains(msg, "byte offset " + std::to_string(c.offset)));
    }
  }
  // offsets stay absolute after a special token split the text
  const std::string msg = error_of([&] { tok.encode("ab<|endoftext|>cd\xFF", SpecialTokens::Allow); });
  CHECK(contains(msg, "byte offset 17"));
  CHECK_THROWS_AS(train_bpe("bad \xFF", TrainerOptions{.vocab_size = 300}), TokenizerError);
}

TEST_CASE("decoding an out-of-range id is an error naming the id") {
  const Tokenizer tok = Tokenizer::from_model(train_bpe("some text", TrainerOptions{.vocab_size = 260}));
  const std::vector<TokenId> too_big{0, static_cast<TokenId>(tok.vocab_size())};
  CHECK(contains(error_of([&] { tok.decode(too_big); }), "token id " + std::to_string(tok.vocab_size())));
  const std::vector<TokenId> negative{-7};
  CHECK(contains(error_of([&] { tok.decode(negative); }), "token id -7"));
  CHECK(contains(error_of([&] { tok.token(123456); }), "123456"));
  if (have_gpt2()) {
    const std::vector<TokenId> ids{15496, 50257};
    CHECK(contains(error_of([&] { gpt2().decode(ids); }), "50257"));
  }
}

TEST_CASE("decode returns raw bytes when ids split a character") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const auto ids = gpt2().encode("😀", SpecialTokens::AsText);
  REQUIRE(ids.size() >= 2);
  std::string joined;
  for (TokenId id : ids) joined += gpt2().decode(std::vector<TokenId>{id});
  CHECK(joined == "😀");
}

// ---------------------------------------------------------------- special tokens

TEST_CASE("<|endoftext|> is one id when allowed and plain text otherwise") {
  if (!have_gpt2()) PETL_SKIP("shared data absent: " + (gpt2_dir() / "encoder.json").string());
  const Tokenizer& tok = gpt2();
  CHECK(tok.end_of_text_id() == 50256);
  REQUIRE(tok.special_tokens().size() == 1);
  CHECK(tok.special_tokens()[0].first == "<|endoftext|>");
  CHECK(tok.encode("<|endoftext|>", SpecialTokens::Allow) == std::vector<TokenId>{50256});
  CHECK(tok.encode("<|endoftext|>", SpecialTokens::AsText) == std::vector<TokenId>{27, 91, 437, 1659, 5239, 91, 29});
  const std::string text = "Hello<|endoftext|> world<|endoftext|><|endoftext|>";
  const auto allowed = tok.encode(text, SpecialTokens::Allow);
  CHECK(allowed == std::vector<TokenId>{15496, 50256, 995, 50256, 50256});
  const auto as_text = tok.encode(text, SpecialTokens::AsText);
  CHECK(std::find(as_text.begin(), as_text.end(), 50256) == as_text.end());
  CHECK(tok.decode(allowed) == text);
  CHECK(tok.decode(as_text) == text);
  CHECK(tok.encode("<|endoftext", SpecialTokens::Allow) == tok.encode("<|endoftext", SpecialTokens::AsText));
}

// ---------------------------------------------------------------- trainer

TEST_CASE("trainer finds the merges predicted by hand, ties broken by bytes") {
  const auto texts = low_lower_newest_widest();
  const BpeModel model = train_bpe(texts, TrainerOptions{.vocab_size = 1000});
  // Pair counts: e s 9, s t 9 (tie: "e" < "s"), then es t 9, l o 7 / o w 7 (tie: "l" < "o"),
  // lo w 7, then n e / e w / w est all 6 (tie: "e" < "n" < "w"), ...
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"e", "s"}, {"es", "t"},  {"l", "o"},   {"lo", "w"},   {"e", "w"}, {"ew", "est"},
      {"n", "ewest"}, {"d", "est"}, {"i", "dest"}, {"w", "idest"}, {"e", "r"}, {"low", "er"}};
  CHECK(model.merges == expected);
  // Nothing is left to merge, so the vocabulary stops short of 1000.
  REQUIRE(model.tokens.size() == 256 + 12 + 1);
  CHECK(model.tokens[0] == "!");
  CHECK(model.tokens[188] == "Ā");
  CHECK(model.tokens[255] == "Ń");
  CHECK(model.tokens[256] == "es");
  CHECK(model.tokens[267] == "lower");
  CHECK(model.tokens.back() == "<|endoftext|>");

  // A smaller requested size stops after the first merges.
  const BpeModel small = train_bpe(texts, TrainerOptions{.vocab_size = 256 + 3 + 1});
  CHECK(small.merges == std::vector<std::pair<std::string, std::string>>(expected.begin(), expected.begin() + 3));
  CHECK(small.tokens.size() == 260);
  // min_pair_count: "lower" (count 2) no longer contributes the last two merges
  const BpeModel strict = train_bpe(texts, TrainerOptions{.vocab_size = 1000, .min_pair_count = 3});
  CHECK(strict.merges == std::vector<std::pair<std::string, std::string>>(expected.begin(), expected.end() - 2));

  const Tokenizer tok = Tokenizer::from_model(model);
  CHECK(tok.encode("lowest", SpecialTokens::AsText) == std::vector<TokenId>{259, 257});  // low + est
  CHECK(tok.encode("newest", SpecialTokens::AsText) == std::vector<TokenId>{262});
  CHECK(tok.end_of_text_id() == 268);
}

TEST_CASE("trainer is deterministic, ignores <|endoftext|> and round-trips through both layouts") {
  std::mt19937 rng(5);
  const char* words[] = {"the", "coffee", "shop", "near", "river", "rating", "family", "friendly", "Eagle",
                         "price", "£20", "25", "it's", "don't", "café", "日本"};
  std::string corpus;
  for (int i = 0; i < 4000; ++i) {
    corpus += words[rng() % std::size(words)];
    corpus += (i % 17 == 16) ? ".\n" : (i % 101 == 100 ? "<|endoftext|>" : " ");
  }
  const TrainerOptions options{.vocab_size = 320};
  const BpeModel a = train_bpe(corpus, options);
  const BpeModel b = train_bpe(corpus, options);
  CHECK(a.tokens == b.tokens);
  CHECK(a.merges == b.merges);
  CHECK(a.tokens.size() == 320);
  CHECK(a.tokens.back() == "<|endoftext|>");
  for (const auto& [l, r] : a.merges) {
    CHECK(l.find('|') == std::string::npos);
    CHECK(r.find('|') == std::string::npos);
  }

  TempDir dir;
  save_huggingface(a, dir.path);
  CHECK(fs::exists(dir.path / "vocab.json"));
  CHECK(fs::exists(dir.path / "merges.txt"));
  CHECK_FALSE(fs::exists(dir.path / "vocab.json.tmp"));
  const Tokenizer hf = Tokenizer::load_huggingface(dir.path);
  CHECK(hf.model().tokens == a.tokens);
  CHECK(hf.model().merges == a.merges);
  // the same files under OpenAI's names
  TempDir openai_dir;
  fs::copy_file(dir.path / "vocab.json", openai_dir.path / "encoder.json");
  fs::copy_file(dir.path / "merges.txt", openai_dir.path / "vocab.bpe");
  const Tokenizer openai = Tokenizer::load_openai(openai_dir.path);

  const Tokenizer mem = Tokenizer::from_model(a);
  const std::string sample = "The coffee shop near the river: it's family friendly, £20-25.\n<|endoftext|>日本 café";
  const auto ids = hf.encode(sample, SpecialTokens::Allow);
  CHECK(ids == openai.encode(sample, SpecialTokens::Allow));
  CHECK(ids == mem.encode(sample, SpecialTokens::Allow));
  CHECK(hf.decode(ids) == sample);
  CHECK(ids.size() < sample.size() / 2);  // the learned merges do compress
  CHECK(std::count(ids.begin(), ids.end(), hf.end_of_text_id()) == 1);

  std::mt19937 r2(77);
  for (int i = 0; i < 500; ++i) {
    const std::string s = random_utf8(r2, static_cast<int>(r2() % 30));
    REQUIRE(hf.decode(hf.encode(s, SpecialTokens::AsText)) == s);
  }
}

TEST_CASE("trainer rejects a vocabulary size below 257") {
  const std::string msg = error_of([] { train_bpe("abc", TrainerOptions{.vocab_size = 100}); });
  CHECK(contains(msg, "vocab_size 100"));
  CHECK(contains(msg, "257"));
}

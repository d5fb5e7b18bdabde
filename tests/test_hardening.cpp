// Regression tests for issue 7 §1: bad input gets a clear petl::Error, never a crash and never a
// silently wrong result. Each case here failed (or crashed) on the code before the fix.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nn/adamw.h"
#include "support/tensor_helpers.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/error.h"
#include "train/lib/command_line.h"
#include "train/lib/trainer.h"
#include "support/temp_dir.h"

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

// ---------------------------------------------------------------- command lines (train, petl_bench)

namespace {
// Parses `args` with train's flags; the error message, or "" when they parse.
std::string train_flags_error(std::vector<std::string> args) {
  const std::vector<cli::FlagSpec> specs = {{"--steps", true}, {"--seed", true}, {"--lr", true}, {"--help", false}};
  return error_of([&] {
    for (const auto& flag : cli::parse_flags("train", args, specs)) {
      if (flag.name == "--steps") cli::parse_integer("train", flag, 1, INT64_MAX);
      if (flag.name == "--seed") cli::parse_unsigned("train", flag);
      if (flag.name == "--lr") cli::parse_positive("train", flag);
    }
  });
}
}  // namespace

TEST_CASE("train flags: non-finite learning rates and out-of-range step counts are refused") {
  for (const char* lr : {"inf", "1e999", "nan", "-nan", "0", "-0.1", "", "0.1x"}) {
    CAPTURE(lr);
    CHECK(contains(train_flags_error({"--lr", lr}), "train: --lr expects a finite number > 0, got '" + std::string(lr) + "'"));
  }
  CHECK(contains(train_flags_error({"--steps", "99999999999999999999999"}),
                 "train: --steps expects an integer in [1, 9223372036854775807], got '99999999999999999999999'"));
  CHECK(contains(train_flags_error({"--steps", "0"}), "--steps expects an integer in [1, "));
  CHECK(contains(train_flags_error({"--steps", "+5"}), "--steps expects an integer"));
  CHECK(contains(train_flags_error({"--seed", "-1"}), "--seed expects an integer in [0, 18446744073709551615]"));
  CHECK(train_flags_error({"--steps", "5", "--lr", "0.01", "--seed", "18446744073709551615"}).empty());
}

TEST_CASE("train flags: --flag=value works, 'needs a value' only when a value is missing, unknown flags named") {
  CHECK(train_flags_error({"--steps=5", "--lr=1e-3"}).empty());
  const std::vector<std::string> args = {"--steps=5", "--lr=1e-3", "--seed", "7"};
  const auto flags = cli::parse_flags("train", args, {{"--steps", true}, {"--seed", true}, {"--lr", true}});
  REQUIRE(flags.size() == 3);
  CHECK(flags[0].value == "5");
  CHECK(flags[1].value == "1e-3");
  CHECK(flags[2].value == "7");
  CHECK(contains(train_flags_error({"foo"}), "train: unexpected argument 'foo'"));
  CHECK(contains(train_flags_error({"--steps", "5", "--bogus"}), "train: unknown flag '--bogus' (known: --steps, --seed, --lr, --help)"));
  CHECK(contains(train_flags_error({"--bogus=3"}), "unknown flag '--bogus'"));
  CHECK(contains(train_flags_error({"--steps", "5", "--lr"}), "train: --lr needs a value"));
  CHECK(contains(train_flags_error({"--help=yes"}), "--help takes no value"));
}

TEST_CASE("petl_bench flags: --only '' and unknown entry names are errors listing the valid names") {
  const std::vector<std::string> names = {"cpu_gemm", "tokenizer_encode"};
  auto only = [&](const std::string& value) {
    return error_of([&] { cli::parse_name_list("petl_bench", cli::Flag{"--only", value}, names); });
  };
  CHECK(contains(only(""), "petl_bench: --only expects a comma-separated list of names without empty ones"));
  CHECK(contains(only("cpu_gemm,"), "without empty ones"));
  CHECK(contains(only("cpu_gem"), "petl_bench: --only: unknown name 'cpu_gem' (valid: cpu_gemm, tokenizer_encode)"));
  CHECK(cli::parse_name_list("petl_bench", cli::Flag{"--only", "tokenizer_encode,cpu_gemm"}, names) ==
        std::vector<std::string>{"tokenizer_encode", "cpu_gemm"});
  CHECK(contains(error_of([&] { cli::parse_choice("petl_bench", cli::Flag{"--device", "gpu"}, {"cpu", "cuda"}); }),
                 "petl_bench: --device expects one of cpu, cuda, got 'gpu'"));
  const std::vector<std::string> bad = {"--quick", "--bogus"};
  CHECK(contains(error_of([&] { cli::parse_flags("petl_bench", bad, {{"--only", true}, {"--quick", false}}); }),
                 "petl_bench: unknown flag '--bogus' (known: --only, --quick)"));
}

TEST_CASE("train: a run whose loss becomes non-finite stops with an error naming the step") {
  // loss = sum(exp(w) + exp(-w)): finite at w = 0.001, inf once the first AdamW step (lr 1e10) has moved w
  // by ~1e10 (AdamW's first update has size lr whatever the gradient's).
  Tensor w = full({4}, 0.001);
  w.set_requires_grad(true);
  train::Example ex{{1, 2}, {1, 2}};
  train::LoopOptions o;
  o.total_steps = 5;
  o.batch_size = 1;
  o.lr = 1e10;
  o.max_grad_norm = 0;
  testing::TempDir dir("petl-diverge");
  const auto loss = [&](const train::Batch&, uint64_t) { return sum(exp(w) + exp(w * -1.0)); };
  const std::string msg =
      error_of([&] { train::run_training(o, {{"w", w}}, {ex}, loss, nullptr, dir.path(), false, nlohmann::json::object()); });
  CHECK(contains(msg, "train: the loss became "));
  CHECK(contains(msg, "at step 2 (lr 1e+10): training diverged"));
}

// ---------------------------------------------------------------- sizes

TEST_CASE("sizes: a shape whose element or byte count overflows is an error naming it, not a crash") {
  // 2^62 float32 elements: 2^64 bytes, which wrapped to a 0-byte allocation and a SIGSEGV.
  CHECK_THROWS_WITH_AS(zeros({int64_t(1) << 62}),
                       Contains("empty: shape [4611686018427387904] of 4-byte elements needs more than 2^63 - 1 bytes"),
                       Error);
  // 2^32 x 2^32 elements: the element count itself wrapped to 0.
  CHECK_THROWS_WITH_AS(zeros({int64_t(1) << 32, int64_t(1) << 32}),
                       Contains("shape [4294967296, 4294967296] has more than 2^63 - 1 elements"), Error);
  CHECK_THROWS_WITH_AS(ones({int64_t(1) << 40, 3, int64_t(1) << 40}, DType::F64), Contains("2^63 - 1 elements"), Error);
  CHECK(zeros({int64_t(1) << 62, 0}).numel() == 0);  // a zero dimension: nothing to allocate
  CHECK_THROWS_AS(numel_of({3, -1}), Error);
}

// ---------------------------------------------------------------- in-place writes and backward

TEST_CASE("autograd: writing an op's saved input in place before backward is an error naming the op") {
  // x * w saves both factors; overwriting w made x.grad come out as the new w ([100, 3]) instead of [3, 3].
  Tensor x = from_vector(std::vector<double>{1, 2}, {2}, DType::F64).set_requires_grad(true);
  Tensor w = from_vector(std::vector<double>{3, 3}, {2}, DType::F64);
  Tensor y = sum(x * w);
  w.set({0}, 100);
  CHECK_THROWS_WITH_AS(backward(y),
                       Contains("backward: input 1 [2] of 'mul' was modified in place after 'mul' used it "
                                "(storage version 0, now 1)"),
                       Error);
  CHECK_FALSE(x.grad().defined());

  // The same through fill_ into a view of the saved tensor, and through copy_ into an op's output
  // (exp's backward reads it; sum, which consumed it, is the first to notice).
  Tensor a = from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}, DType::F64).set_requires_grad(true);
  Tensor b = from_vector(std::vector<double>{1, 1, 1, 1}, {2, 2}, DType::F64);
  Tensor m = matmul(a, b);
  kernel::fill_(kernel::slice(b, 0, 0, 1), 5.0);
  CHECK_THROWS_WITH_AS(backward(sum(m)), Contains("of 'matmul' was modified in place"), Error);
  Tensor e = exp(a);
  Tensor loss = sum(e);
  kernel::copy_(e, zeros({2, 2}, DType::F64));
  CHECK_THROWS_WITH_AS(backward(loss), Contains("backward: input 0 [2, 2] of 'sum' was modified in place"), Error);

  // Writes before the op, or into a clone, are fine, and the gradient is right.
  Tensor c = from_vector(std::vector<double>{3, 3}, {2}, DType::F64);
  c.set({0}, 4);
  Tensor x2 = from_vector(std::vector<double>{1, 2}, {2}, DType::F64).set_requires_grad(true);
  Tensor y2 = sum(x2 * c);
  kernel::clone(c).set({0}, 100);
  backward(y2);
  CHECK(x2.grad().to_vector() == std::vector<double>{4, 3});
}

TEST_CASE("autograd: an AdamW step between forward and a retained backward is caught") {
  Tensor w = from_vector(std::vector<double>{1, 2}, {2}, DType::F64).set_requires_grad(true);
  Tensor loss = sum(w * w);
  backward(loss, Tensor(), /*retain_graph=*/true);
  nn::AdamW opt({w});
  opt.step();  // writes w in place
  CHECK_THROWS_WITH_AS(backward(loss), Contains("of 'mul' was modified in place"), Error);
}

TEST_CASE("autograd: backward(root, grad) checks grad's dtype, device and shape") {
  Tensor x = from_vector(std::vector<float>{1, 2, 3}, {3}).set_requires_grad(true);
  Tensor y = x * x;
  CHECK_THROWS_WITH_AS(backward(y, ones({3}, DType::F64)),
                       Contains("backward: gradient is float64 [3], expected float32 like the root"), Error);
  CHECK_THROWS_WITH_AS(backward(y, ones({4})), Contains("backward: gradient of shape [4] for a root of shape [3]"), Error);
  if (cuda_available()) {
    CHECK_THROWS_WITH_AS(backward(y, ones({3}, DType::F32, Device::cuda())),
                         Contains("backward: gradient is on cuda:0, expected cpu like the root"), Error);
  }
  // A leaf root: a float64 gradient must not become the float32 leaf's .grad().
  CHECK_THROWS_WITH_AS(backward(x, ones({3}, DType::F64)), Contains("backward: gradient is float64"), Error);
  CHECK_FALSE(x.grad().defined());
  backward(y, ones({3}));
  CHECK(x.grad().dtype() == DType::F32);
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
}

// ---------------------------------------------------------------- integers

TEST_CASE("int64: set, fill and from_vector refuse NaN, inf and values outside int64") {
  Tensor ids = zeros({2}, DType::I64);
  for (double bad : {std::nan(""), 1e30, -1e30, HUGE_VAL, 9223372036854775808.0, 2.5}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(ids.set({0}, bad), Contains("Tensor::set: cannot store"), Error);
    CHECK_THROWS_WITH_AS(full({2}, bad, DType::I64), Contains("fill_: cannot store"), Error);
    CHECK_THROWS_WITH_AS(from_vector(std::vector<double>{0, bad}, {2}, DType::I64), Contains("from_vector: cannot store"),
                         Error);
  }
  ids.set({1}, -9223372036854775808.0);
  CHECK(ids.data<int64_t>()[1] == INT64_MIN);
  ids.set({0}, 42);
  CHECK(ids.data<int64_t>()[0] == 42);
}

TEST_CASE("arange over int64 is exact near the limits and refuses more than 2^63 - 1 elements") {
  Tensor top = arange(INT64_MAX - 2, INT64_MAX);
  REQUIRE(top.numel() == 2);
  CHECK(top.data<int64_t>()[0] == INT64_MAX - 2);
  CHECK(top.data<int64_t>()[1] == INT64_MAX - 1);
  Tensor bottom = arange(INT64_MIN, INT64_MIN + 3, 2);
  REQUIRE(bottom.numel() == 2);
  CHECK(bottom.data<int64_t>()[1] == INT64_MIN + 2);
  Tensor wide = arange(INT64_MIN, INT64_MAX, int64_t(1) << 62);  // i * step overflows int64 on the way
  REQUIRE(wide.numel() == 4);
  CHECK(wide.data<int64_t>()[3] == (int64_t(1) << 62));  // -2^63 + 3 * 2^62
  CHECK(arange(5, 0, -2).to_vector() == std::vector<double>{5, 3, 1});
  CHECK(arange(0, 0).numel() == 0);
  CHECK(arange(3, 0).numel() == 0);
  CHECK_THROWS_WITH_AS(arange(0, INT64_MAX), Contains("needs more than 2^63 - 1 bytes"), Error);
  CHECK_THROWS_WITH_AS(arange(INT64_MIN, INT64_MAX), Contains("more than 2^63 - 1 elements"), Error);
}

// ---------------------------------------------------------------- NaN and argument ranges

TEST_CASE("max propagates NaN like torch.amax, on every reduction path") {
  const double nan = std::nan("");
  CHECK(std::isnan(max(from_vector(std::vector<double>{1, nan, 2}, {3})).item()));
  CHECK(std::isnan(max(from_vector(std::vector<double>{nan, 1, 2}, {3})).item()));
  // Rows (inner == 1), columns (inner > 1), and one long row split across threads.
  Tensor m = from_vector(std::vector<double>{1, nan, 2, 3, 4, 5}, {2, 3}, DType::F64);
  const auto rows = max(m, {1}).to_vector();
  CHECK(std::isnan(rows[0]));
  CHECK(rows[1] == 5);
  const auto cols = max(m, {0}).to_vector();
  CHECK(cols[0] == 3);
  CHECK(std::isnan(cols[1]));
  CHECK(cols[2] == 5);
  std::vector<double> long_row(1 << 20, 1.0);
  long_row[123457] = nan;
  CHECK(std::isnan(max(from_vector(long_row, {1, 1 << 20}, DType::F64), {1}).item()));
  long_row[123457] = 7;
  CHECK(max(from_vector(long_row, {1, 1 << 20}, DType::F64), {1}).item() == 7);
}

TEST_CASE("mean of an empty tensor is NaN, not 0") {
  CHECK(std::isnan(mean(zeros({0})).item()));
  const auto per_row = mean(zeros({3, 0}, DType::F64), {1}).to_vector();
  REQUIRE(per_row.size() == 3);
  for (double v : per_row) CHECK(std::isnan(v));
  CHECK(sum(zeros({0})).item() == 0);  // while the empty sum is 0
}

TEST_CASE("layer_norm eps, uniform bounds and AdamW options out of range are errors") {
  Tensor x = ones({2, 4});
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor(), Tensor(), -1e-5),
                       Contains("layer_norm: eps must be a finite number >= 0, got -1e-05"), Error);
  CHECK_THROWS_AS(layer_norm(x, Tensor(), Tensor(), std::nan("")), Error);
  CHECK_NOTHROW(layer_norm(x, Tensor(), Tensor(), 0.0));
  CHECK_THROWS_WITH_AS(uniform({3}, 1.0, 0.0), Contains("uniform: expected finite bounds with low <= high, got low 1, high 0"),
                       Error);
  CHECK_THROWS_AS(uniform({3}, 0.0, HUGE_VAL), Error);
  CHECK_NOTHROW(uniform({3}, 0.5, 0.5));

  Tensor w = zeros({2}).set_requires_grad(true);
  auto adamw = [&](auto change) {
    nn::AdamWOptions o;
    change(o);
    return error_of([&] { nn::AdamW opt({w}, o); });
  };
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.beta1 = 1.0; }), "AdamW: beta1 must be in [0, 1), got 1"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.beta1 = -0.1; }), "AdamW: beta1 must be in [0, 1)"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.beta2 = 1.5; }), "AdamW: beta2 must be in [0, 1), got 1.5"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.beta2 = std::nan(""); }), "AdamW: beta2 must be in [0, 1)"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.lr = -1e-3; }), "AdamW: lr must be a finite number >= 0, got -0.001"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.lr = HUGE_VAL; }), "AdamW: lr must be a finite number >= 0, got inf"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.lr = std::nan(""); }), "AdamW: lr must be"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.eps = -1; }), "AdamW: eps must be"));
  CHECK(contains(adamw([](nn::AdamWOptions& o) { o.weight_decay = -1; }), "AdamW: weight_decay must be"));
  nn::AdamW opt({w});
  CHECK_THROWS_WITH_AS(opt.set_lr(std::nan("")), Contains("AdamW: lr must be"), Error);
  CHECK(opt.lr() == 1e-3);
}

TEST_CASE("reshape to a target shape whose size overflows is an error, not a wrapped match") {
  Tensor x = zeros({4});
  CHECK_THROWS_WITH_AS(reshape(x, {int64_t(1) << 62, 4, -1}), Contains("has more than 2^63 - 1 elements"), Error);
  CHECK_THROWS_AS(reshape(x, {int64_t(1) << 62, 4}), Error);
}

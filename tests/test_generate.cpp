// Generation (nn/generate.h) against transformers' generate(): a deterministic toy StepModel whose
// logits are a hash of each row's tokens, the same function tools/oracle/generation_mock.py runs
// through transformers 5.23; the expected ids in tests/fixtures/generate/mock_cases.json are
// transformers' output (tools/oracle/generation_fixtures.py). Then the real models: a small GPT-2 and
// BART (tests/fixtures/generate/{gpt2,bart}_model) decoded with their KV caches must give exactly the
// ids transformers' generate() gave ({gpt2,bart}_cases.json).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nn/bart_checkpoint.h"
#include "nn/generate.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/greedy_search.h"
#include "nn/logits_processors.h"
#include "support/skip.h"

namespace {

using nlohmann::json;
using petl::Tensor;
using namespace petl::nn;

const char* kMockCases = "tests/fixtures/generate/mock_cases.json";

json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  return json::parse(in);
}

// The toy model of generation_mock.py: logits[v] = k/64 - 8 + v/65536 (+ eos_bonus at eos) with
// k = mix64(h ^ v * FNV prime) mod 1024 and h a hash of the row's real tokens.
class MockStepModel : public StepModel {
 public:
  MockStepModel(int64_t vocab, double eos_bonus, int64_t eos, int64_t pad)
      : vocab_(vocab), eos_bonus_(eos_bonus), eos_(eos), pad_(pad) {}

  Tensor start(const Tensor& input_ids, const Tensor& attention_mask) override {
    rows_.clear();
    for (int64_t b = 0; b < input_ids.size(0); ++b) {
      std::vector<int64_t> real;
      for (int64_t t = 0; t < input_ids.size(1); ++t)
        if (attention_mask.at({b, t}) != 0) real.push_back(int64_t(input_ids.at({b, t})));
      rows_.push_back(real);
    }
    ++calls;
    return logits();
  }
  Tensor next(const Tensor& tokens) override {
    REQUIRE(tokens.numel() == int64_t(rows_.size()));
    for (size_t r = 0; r < rows_.size(); ++r) rows_[r].push_back(int64_t(tokens.at({int64_t(r)})));
    ++calls;
    return logits();
  }
  void select_rows(const Tensor& index) override {
    std::vector<std::vector<int64_t>> picked;
    for (int64_t i = 0; i < index.numel(); ++i) picked.push_back(rows_.at(size_t(index.at({i}))));
    rows_ = std::move(picked);
  }
  int64_t vocab_size() const override { return vocab_; }
  int64_t eos_token_id() const override { return eos_; }
  int64_t pad_token_id() const override { return pad_; }
  int64_t decoder_start_token_id() const override { return -1; }

  int64_t calls = 0;

 private:
  Tensor logits() const {
    std::vector<float> out;
    for (const auto& tokens : rows_) {
      uint64_t h = 0xCBF29CE484222325ull;
      for (const int64_t t : tokens) h = petl::mix64(h ^ uint64_t(t + 1));
      for (int64_t v = 0; v < vocab_; ++v) {
        const uint64_t k = petl::mix64(h ^ (uint64_t(v) * 0x100000001B3ull)) % 1024;
        double value = double(k) / 64.0 - 8.0 + double(v) / 65536.0;
        if (v == eos_) value += eos_bonus_;
        out.push_back(float(value));
      }
    }
    return petl::from_vector(out, {int64_t(rows_.size()), vocab_});
  }

  int64_t vocab_;
  double eos_bonus_;
  int64_t eos_, pad_;
  std::vector<std::vector<int64_t>> rows_;
};

int64_t id_or_none(const json& value) { return value.is_null() ? -1 : value.get<int64_t>(); }

Tensor int_table(const json& rows) {
  std::vector<int64_t> values;
  for (const json& row : rows)
    for (const json& v : row) values.push_back(v.get<int64_t>());
  return petl::from_vector(values, {int64_t(rows.size()), int64_t(rows[0].size())});
}

// "[[1, 2], [3, 4]]": ids compared as text, so that a failure prints both tables.
std::string text_of(const std::vector<std::vector<int64_t>>& rows) { return json(rows).dump(); }

std::vector<std::vector<int64_t>> rows_of(const Tensor& t) {
  std::vector<std::vector<int64_t>> rows(size_t(t.size(0)));
  for (int64_t r = 0; r < t.size(0); ++r)
    for (int64_t c = 0; c < t.size(1); ++c) rows[size_t(r)].push_back(int64_t(t.at({r, c})));
  return rows;
}

void run_mock_case(const json& c) {
  INFO("case " << c["name"].get<std::string>());
  const json& m = c["model"];
  MockStepModel model(m["vocab_size"], m["eos_bonus"], id_or_none(m["eos_token_id"]), id_or_none(m["pad_token_id"]));
  const GenerationConfig request = GenerationConfig::from_json(c["generate"], "mock case");
  const Tensor out = generate(model, int_table(c["input_ids"]), int_table(c["attention_mask"]), request);
  CHECK(text_of(rows_of(out)) == text_of(c["sequences"].get<std::vector<std::vector<int64_t>>>()));
}

void run_cases_named(const std::string& prefix) {
  const json cases = read_json(kMockCases);
  int ran = 0;
  for (const json& c : cases["cases"]) {
    if (c["name"].get<std::string>().rfind(prefix, 0) != 0) continue;
    run_mock_case(c);
    ++ran;
  }
  CHECK(ran > 0);
}

ScoreTable score_table(const json& rows) {
  ScoreTable t{int64_t(rows.size()), int64_t(rows[0].size()), {}};
  for (const json& row : rows)
    for (const json& v : row) t.values.push_back(v.is_null() ? -INFINITY : v.get<float>());
  return t;
}

// Every case of tests/fixtures/generate/<name>_cases.json on the model loaded by `load`.
template <class Load>
void run_model_cases(const std::string& name, Load load) {
  const json fixture = read_json("tests/fixtures/generate/" + name + "_cases.json");
  const std::string dir = fixture["model"];
  auto model = load(dir);
  model->train(false);  // dropout off, as from_pretrained leaves a transformers model
  const GenerationConfig defaults = load_generation_config(dir);
  const Tensor ids = int_table(fixture["input_ids"]), mask = int_table(fixture["attention_mask"]);
  REQUIRE(fixture["cases"].size() > 0);
  for (const json& c : fixture["cases"]) {
    INFO(name << " case " << c["name"].get<std::string>() << ": " << c["generate"].dump());
    const GenerationConfig request = GenerationConfig::from_json(c["generate"], "case");
    const Tensor out = generate(*model, ids, mask, request, defaults);
    CHECK(text_of(rows_of(out)) == text_of(c["sequences"].get<std::vector<std::vector<int64_t>>>()));
  }
}

}  // namespace

TEST_CASE("GPT-2 generation gives transformers' ids (padded batch, KV cache, greedy and beam settings)") {
  run_model_cases("gpt2", [](const std::string& dir) { return load_gpt2(dir); });
}

TEST_CASE("BART generation gives transformers' ids (padded encoder batch, forced tokens, greedy and beam)") {
  run_model_cases("bart", [](const std::string& dir) { return load_bart(dir); });
}

TEST_CASE("greedy search gives transformers' ids on the toy model (padding, EOS, min length, n-grams, forced tokens)") {
  run_cases_named("greedy");
}

TEST_CASE("beam search gives transformers' ids on the toy model (early stopping, length penalty, n-grams, forced tokens)") {
  run_cases_named("beam");
}

TEST_CASE("logits processors give transformers' scores (temperature, top-k, top-p, no-repeat n-grams)") {
  const json cases = read_json(kMockCases);
  REQUIRE(cases["processors"].size() > 0);
  for (const json& c : cases["processors"]) {
    INFO("processor " << c["name"].get<std::string>());
    ScoreTable scores = score_table(c["scores"]);
    const TokenTable sequences = TokenTable::from_tensor(int_table(c["sequences"]));
    const json& a = c["args"];
    if (a.contains("temperature")) divide_by_temperature(scores, a["temperature"]);
    if (a.contains("top_k")) keep_top_k(scores, a["top_k"]);
    if (a.contains("top_p")) keep_top_p(scores, a["top_p"]);
    if (a.contains("no_repeat_ngram_size")) ban_repeated_ngrams(sequences, scores, a["no_repeat_ngram_size"]);
    const ScoreTable expected = score_table(c["expected"]);
    REQUIRE(scores.values.size() == expected.values.size());
    for (size_t i = 0; i < expected.values.size(); ++i) {
      INFO("score " << i << ": ours " << scores.values[i] << ", transformers " << expected.values[i]);
      CHECK(scores.values[i] == expected.values[i]);
    }
  }
}

TEST_CASE("sampling: reproducible from the seed, top_k = 1 is greedy, draws follow softmax") {
  const json cases = read_json(kMockCases);
  const json& padded = cases["cases"][0];
  const Tensor ids = int_table(padded["input_ids"]), mask = int_table(padded["attention_mask"]);
  GenerationConfig sample;
  sample.do_sample = true;
  sample.max_new_tokens = 12;
  sample.num_return_sequences = 3;
  const auto run = [&](uint64_t seed, const GenerationConfig& config) {
    MockStepModel model(16, 1.5, 3, 0);
    petl::Generator gen(seed);
    return rows_of(generate(model, ids, mask, config, {}, gen));
  };
  const auto a = run(7, sample), b = run(7, sample), other = run(8, sample);
  CHECK(a == b);
  CHECK(a != other);
  CHECK(a.size() == 9);  // 3 prompts x 3 samples

  GenerationConfig top1 = sample;
  top1.top_k = 1;
  top1.num_return_sequences = 1;
  GenerationConfig greedy;
  greedy.max_new_tokens = 12;
  CHECK(run(3, top1) == run(3, greedy));

  // Frequencies of 20000 draws from one row against its softmax probabilities.
  const std::vector<float> scores = {0.5f, -1.0f, 2.0f, -INFINITY, 0.0f, 1.0f};
  double total = 0;
  for (const float s : scores) total += std::exp(double(s));
  std::vector<int> counts(scores.size(), 0);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[size_t(draw_token(scores, petl::random_uniform(99, uint64_t(i))))];
  for (size_t v = 0; v < scores.size(); ++v) {
    const double p = std::exp(double(scores[v])) / total;
    const double sd = std::sqrt(p * (1 - p) / draws);
    INFO("token " << v << ": frequency " << counts[v] / double(draws) << ", probability " << p);
    CHECK(std::abs(counts[v] / double(draws) - p) <= 5 * sd + 1e-12);
  }
  CHECK(counts[3] == 0);
}

TEST_CASE("top-k and top-p restrict samples to the allowed tokens") {
  const json cases = read_json(kMockCases);
  const json& padded = cases["cases"][0];
  const Tensor ids = int_table(padded["input_ids"]), mask = int_table(padded["attention_mask"]);
  for (const int64_t k : {2, 4}) {
    // With top_k = k, each sampled token must be among the k best of its step's raw logits, which
    // the mock recomputes from the prefix.
    GenerationConfig config;
    config.do_sample = true;
    config.top_k = k;
    config.max_new_tokens = 10;
    config.temperature = 1.7;
    MockStepModel model(16, 0.0, -1, -1);
    petl::Generator gen(11);
    const auto rows = rows_of(generate(model, ids, mask, config, {}, gen));
    for (size_t r = 0; r < rows.size(); ++r) {
      MockStepModel scorer(16, 0.0, -1, -1);
      std::vector<int64_t> prompt_ids, prompt_mask;
      const auto& row = rows[r];
      const int64_t T = ids.size(1);
      for (int64_t t = 0; t < T; ++t) {
        prompt_ids.push_back(row[size_t(t)]);
        prompt_mask.push_back(int64_t(mask.at({int64_t(r), t})));
      }
      Tensor logits = scorer.start(petl::from_vector(prompt_ids, {1, T}), petl::from_vector(prompt_mask, {1, T}));
      for (size_t t = size_t(T); t < row.size(); ++t) {
        const std::vector<double> l = logits.to_vector();
        int better = 0;
        for (const double x : l) better += x > l[size_t(row[t])];
        CHECK(better < k);
        logits = scorer.next(petl::from_vector(std::vector<int64_t>{row[t]}, {1}));
      }
    }
  }
}

TEST_CASE("generation config: JSON layers, defaults and clear errors") {
  MockStepModel model(16, 0.0, 3, 0);
  // A model directory's defaults lose to the request, and the global defaults fill the rest.
  const GenerationConfig defaults =
      GenerationConfig::from_json(json::parse(R"({"num_beams": 4, "early_stopping": true, "eos_token_id": [3, 5],
                                                  "forced_bos_token_id": 0, "max_length": 30, "vocab_size": 9})"),
                                  "generation_config.json");
  GenerationConfig request;
  request.num_beams = 2;
  const GenerationPlan plan = plan_generation(request, defaults, model, 5);
  CHECK(plan.num_beams == 2);
  CHECK(plan.early_stopping == EarlyStopping::True);
  CHECK(plan.max_length == 30);
  CHECK(plan.eos_token_ids == std::vector<int64_t>{3, 5});
  CHECK(plan.top_k == 50);
  CHECK(plan.length_penalty == 1.0);
  // max_new_tokens wins over max_length; without either, 20 new tokens.
  request.max_new_tokens = 4;
  CHECK(plan_generation(request, defaults, model, 5).max_length == 9);
  CHECK(plan_generation({}, {}, model, 5).max_length == 25);
  GenerationConfig capped;
  capped.max_position_embeddings = 16;
  CHECK(plan_generation({}, capped, model, 5).max_length == 16);
  // pad id unset falls back to EOS.
  MockStepModel no_pad(16, 0.0, 3, -1);
  CHECK(plan_generation({}, {}, no_pad, 5).pad_token_id == 3);

  const auto error_of = [&](const std::string& text, int64_t prompt_length = 5) {
    try {
      plan_generation(GenerationConfig::from_json(json::parse(text), "request.json"), {}, model, prompt_length);
    } catch (const petl::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of(R"({"num_beams": "four"})").find("\"num_beams\" must be an integer") != std::string::npos);
  CHECK(error_of(R"({"early_stopping": "sometimes"})").find("true, false or \"never\"") != std::string::npos);
  CHECK(error_of(R"({"num_beams": 0})").find("num_beams must be >= 1") != std::string::npos);
  CHECK(error_of(R"({"num_beams": 2, "num_return_sequences": 3})").find("must be <= num_beams") != std::string::npos);
  CHECK(error_of(R"({"num_return_sequences": 2})").find("greedy search returns one sequence") != std::string::npos);
  CHECK(error_of(R"({"max_new_tokens": 0})").find("max_new_tokens must be > 0") != std::string::npos);
  CHECK(error_of(R"({"max_length": 5})").find("max_length is 5") != std::string::npos);
  CHECK(error_of(R"({"do_sample": true, "temperature": 0.0})").find("temperature must be a positive") !=
        std::string::npos);
  CHECK(error_of(R"({"do_sample": true, "top_p": 1.5})").find("top_p must be in [0, 1]") != std::string::npos);
  CHECK(error_of(R"({"eos_token_id": 16})").find("eos_token_id = 16 is not a token id") != std::string::npos);
  CHECK(error_of(R"({"eos_token_id": []})").find("non-empty list") != std::string::npos);
  CHECK(error_of(R"({"do_sample": true, "num_beams": 2})").find("beam sampling") != std::string::npos);
  CHECK(error_of(R"({"no_repeat_ngram_size": -1})").find("no_repeat_ngram_size must be >= 0") != std::string::npos);
}

TEST_CASE("generate: bad inputs are errors naming what is wrong") {
  MockStepModel model(16, 0.0, 3, 0);
  const Tensor ids = petl::from_vector(std::vector<int64_t>{1, 2, 3, 4}, {2, 2});
  const Tensor mask = petl::from_vector(std::vector<int64_t>{1, 1, 1, 1}, {2, 2});
  GenerationConfig config;
  config.max_new_tokens = 2;
  CHECK_THROWS_WITH_AS(generate(model, petl::from_vector(std::vector<float>{1, 2}, {1, 2}), mask, config),
                       doctest::Contains("input_ids must be int64"), petl::Error);
  CHECK_THROWS_WITH_AS(generate(model, ids, petl::from_vector(std::vector<int64_t>{1, 1}, {1, 2}), config),
                       doctest::Contains("attention_mask must be int64 with the shape"), petl::Error);
  CHECK_THROWS_WITH_AS(generate(model, ids, petl::from_vector(std::vector<int64_t>{1, 2, 1, 1}, {2, 2}), config),
                       doctest::Contains("attention_mask[0, 1] is 2"), petl::Error);
  CHECK_THROWS_WITH_AS(generate(model, ids, petl::from_vector(std::vector<int64_t>{0, 0, 1, 1}, {2, 2}), config),
                       doctest::Contains("row 0 of attention_mask has no token"), petl::Error);
  CHECK_THROWS_WITH_AS(generate(model, petl::from_vector(std::vector<int64_t>{1, 2, 3, 16}, {2, 2}), mask, config),
                       doctest::Contains("input_ids holds 16"), petl::Error);
}

TEST_CASE("generation config: load_generation_config prefers generation_config.json over config.json") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "petl_test_generation_config";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto write = [&](const char* name, const char* text) { std::ofstream(dir / name) << text; };
  write("config.json", R"({"n_positions": 64, "num_beams": 4, "no_repeat_ngram_size": 3, "eos_token_id": 2})");
  GenerationConfig from_config = load_generation_config(dir);
  CHECK(from_config.num_beams == 4);
  CHECK(from_config.no_repeat_ngram_size == 3);
  CHECK(from_config.max_position_embeddings == 64);
  write("generation_config.json", R"({"eos_token_id": 7, "max_length": 40})");
  GenerationConfig from_generation = load_generation_config(dir);
  CHECK(!from_generation.num_beams);
  CHECK(from_generation.eos_token_id == std::vector<int64_t>{7});
  CHECK(from_generation.max_position_embeddings == 64);
  write("generation_config.json", R"({"eos_token_id": 7,)");
  CHECK_THROWS_WITH_AS(load_generation_config(dir), doctest::Contains("generation_config.json: not valid JSON"),
                       petl::Error);
  fs::remove_all(dir);
  CHECK_THROWS_WITH_AS(load_generation_config(dir), doctest::Contains("config.json: missing"), petl::Error);
}

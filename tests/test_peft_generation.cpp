// Generation with prefix- and prompt-tuning adapters against Hugging Face peft's generate(): peft's
// saved adapter directories and the ids its generate() gave on the generation fixtures' small GPT-2 and
// BART (tests/fixtures/peft/generation/<model>_<method>/, tools/oracle/peft_generation_fixtures.py),
// greedy and beam search on a padded batch. Ours loads the same directory, attaches it, and decodes
// with nn::generate and the model's KV cache (peft/generation.h numbers GPT-2's positions).
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/bart_checkpoint.h"
#include "nn/generate.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/bart_prefix.h"
#include "peft/generation.h"

namespace {

using nlohmann::json;
using petl::Tensor;
using namespace petl;

const std::string kFixtures = "tests/fixtures/peft/generation/";

json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  return json::parse(in);
}

Tensor int_table(const json& rows) {
  std::vector<int64_t> values;
  for (const json& row : rows)
    for (const json& v : row) values.push_back(v.get<int64_t>());
  return from_vector(values, {int64_t(rows.size()), int64_t(rows[0].size())});
}

std::string text_of(const Tensor& t) {
  std::vector<std::vector<int64_t>> rows(size_t(t.size(0)));
  for (int64_t r = 0; r < t.size(0); ++r)
    for (int64_t c = 0; c < t.size(1); ++c) rows[size_t(r)].push_back(int64_t(t.at({r, c})));
  return json(rows).dump();
}

// Every case of <case_dir>/cases.json decoded by `model` (its adapter attached): the same ids.
void check_cases(const std::string& case_dir, nn::StepModel& model, const std::string& model_dir) {
  const json fixture = read_json(kFixtures + case_dir + "/cases.json");
  const nn::GenerationConfig defaults = nn::load_generation_config(model_dir);
  const Tensor ids = int_table(fixture["input_ids"]), mask = int_table(fixture["attention_mask"]);
  REQUIRE(fixture["cases"].size() > 0);
  for (const json& c : fixture["cases"]) {
    INFO(case_dir << " case " << c["name"].get<std::string>() << ": " << c["generate"].dump());
    const nn::GenerationConfig request = nn::GenerationConfig::from_json(c["generate"], "case");
    CHECK(text_of(nn::generate(model, ids, mask, request, defaults)) == json(c["sequences"]).dump());
  }
}

const std::string kGpt2 = "tests/fixtures/generate/gpt2_model";
const std::string kBart = "tests/fixtures/generate/bart_model";

void check_gpt2_prefix(const std::string& method) {
  auto model = nn::load_gpt2(kGpt2);
  model->train(false);
  const nn::Gpt2Config& cfg = model->config();
  auto prefix = peft::PrefixTuning::load_peft(kFixtures + "gpt2_" + method + "/adapter", cfg.n_layer, cfg.n_head, cfg.n_embd);
  nn::SiteMap sites = model->sites();
  prefix->attach(sites, *model);
  peft::decode_like_peft(*model, *prefix);
  check_cases("gpt2_" + method, *model, kGpt2);
}

void check_bart_prefix(const std::string& method) {
  auto model = nn::load_bart(kBart);
  model->train(false);
  auto prefix = peft::BartPrefixTuning::load_peft(kFixtures + "bart_" + method + "/adapter", model->config());
  prefix->attach(*model);
  check_cases("bart_" + method, *model, kBart);
}

}  // namespace

TEST_CASE("GPT-2 generation with peft's prefix (flat table) gives peft generate()'s ids, greedy and beam") {
  check_gpt2_prefix("prefix_flat");
}

TEST_CASE("GPT-2 generation with peft's prefix (MLP reparameterization, saved folded) gives peft generate()'s ids") {
  check_gpt2_prefix("prefix_projected");
}

TEST_CASE("GPT-2 generation with peft's prompt tuning gives peft generate()'s ids (positions over padding)") {
  auto model = nn::load_gpt2(kGpt2);
  model->train(false);
  auto prompt = peft::PromptTuning::load_peft(kFixtures + "gpt2_prompt/adapter", model->config().n_embd);
  nn::SiteMap sites = model->sites();
  prompt->attach(sites, *model);
  peft::decode_like_peft(*model, *prompt);
  check_cases("gpt2_prompt", *model, kGpt2);
}

TEST_CASE("GPT-2 decoding positions without decode_like_peft differ from peft's: the fixtures can tell") {
  // The prefix and prompt fixtures decoded with transformers' plain positions (no past of P, padding
  // not counted) must not give peft's greedy ids, or the tests above could not catch a position error.
  const json prefix_cases = read_json(kFixtures + "gpt2_prefix_flat/cases.json");
  const json prompt_cases = read_json(kFixtures + "gpt2_prompt/cases.json");
  const nn::GenerationConfig defaults = nn::load_generation_config(kGpt2);
  auto greedy_ids = [&](nn::Gpt2LMHead& model, const json& fixture) {
    const nn::GenerationConfig request = nn::GenerationConfig::from_json(fixture["cases"][0]["generate"], "case");
    return text_of(nn::generate(model, int_table(fixture["input_ids"]), int_table(fixture["attention_mask"]), request,
                                defaults));
  };
  auto model = nn::load_gpt2(kGpt2);
  model->train(false);
  const nn::Gpt2Config& cfg = model->config();
  nn::SiteMap sites = model->sites();
  {
    auto prefix = peft::PrefixTuning::load_peft(kFixtures + "gpt2_prefix_flat/adapter", cfg.n_layer, cfg.n_head, cfg.n_embd);
    prefix->attach(sites, *model);
    CHECK(greedy_ids(*model, prefix_cases) != json(prefix_cases["cases"][0]["sequences"]).dump());
    prefix->detach();
  }
  auto prompt = peft::PromptTuning::load_peft(kFixtures + "gpt2_prompt/adapter", cfg.n_embd);
  prompt->attach(sites, *model);
  CHECK(greedy_ids(*model, prompt_cases) != json(prompt_cases["cases"][0]["sequences"]).dump());
  peft::decode_like_peft(*model, *prompt);
  CHECK(greedy_ids(*model, prompt_cases) == json(prompt_cases["cases"][0]["sequences"]).dump());
}

TEST_CASE("BART generation with peft's prefix (flat table, decoder self-attention, positions from P) gives peft's ids") {
  check_bart_prefix("prefix_flat");
}

TEST_CASE("BART generation with peft's prefix (MLP reparameterization, saved folded) gives peft generate()'s ids") {
  check_bart_prefix("prefix_projected");
}

TEST_CASE("BART generation with peft's prompt tuning (rows before the encoder's tokens) gives peft's ids") {
  auto model = nn::load_bart(kBart);
  model->train(false);
  auto prompt = peft::PromptTuning::load_peft(kFixtures + "bart_prompt/adapter", model->config().d_model);
  nn::SiteMap sites = model->sites();
  prompt->attach(sites, *model);
  check_cases("bart_prompt", *model, kBart);
}

// BART: parity with transformers on the committed fixtures (logits, loss, every gradient, 10
// AdamW steps), decoding with the self-attention cache and cross keys/values computed once,
// dropout placement, config.json, checkpoint directories.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <string>

#include "nn/bart.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;

namespace {

BartConfig tiny() {
  BartConfig c;
  c.vocab_size = 50;
  c.d_model = 24;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.encoder_attention_heads = c.decoder_attention_heads = 4;
  c.encoder_ffn_dim = 40;
  c.decoder_ffn_dim = 48;
  c.max_position_embeddings = 20;
  c.scale_embedding = true;
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Logits of the last decoder position of each row from a full forward: [B, V].
std::vector<double> full_last_logits(BartForConditionalGeneration& model, const Tensor& src, const Tensor& mask,
                                     const std::vector<int64_t>& decoder_ids, int64_t B, int64_t T) {
  const Tensor logits = model.forward(src, mask, from_vector(decoder_ids, {B, T}));
  return slice(logits, 1, T - 1, T).to_vector();
}

}  // namespace

TEST_CASE("bart decoding: step-by-step logits with the caches equal the full forward, and select_rows") {
  BartForConditionalGeneration model(tiny(), 31);
  model.train(false);
  NoGradGuard no_grad;
  const Tensor src = from_vector(std::vector<int64_t>{0, 7, 8, 9, 2, /**/ 0, 11, 2, 1, 1}, {2, 5});
  const Tensor mask = from_vector(std::vector<double>{1, 1, 1, 1, 1, /**/ 1, 1, 1, 0, 0}, {2, 5});
  Tensor logits = model.start(src, mask);
  std::vector<std::vector<int64_t>> rows = {{2}, {2}};  // decoder_start_token_id
  auto expected = [&](const Tensor& s, const Tensor& m) {
    std::vector<int64_t> flat;
    for (auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    return full_last_logits(model, s, m, flat, int64_t(rows.size()), int64_t(rows[0].size()));
  };
  CHECK(logits.shape() == Shape{2, 50});
  CHECK(testing::max_abs_diff(logits.to_vector(), expected(src, mask)) < 1e-5);
  for (const std::vector<int64_t>& step : {std::vector<int64_t>{5, 6}, {13, 14}, {20, 21}}) {
    logits = model.next(from_vector(step, {2}));
    rows[0].push_back(step[0]);
    rows[1].push_back(step[1]);
    CHECK(testing::max_abs_diff(logits.to_vector(), expected(src, mask)) < 1e-5);
  }
  // beams: rows (1, 0, 1) of the state, then one more token each
  model.select_rows(from_vector(std::vector<int64_t>{1, 0, 1}, {3}));
  logits = model.next(from_vector(std::vector<int64_t>{30, 31, 32}, {3}));
  rows = {rows[1], rows[0], rows[1]};
  rows[0].push_back(30), rows[1].push_back(31), rows[2].push_back(32);
  const Tensor src3 = from_vector(std::vector<int64_t>{0, 11, 2, 1, 1, /**/ 0, 7, 8, 9, 2, /**/ 0, 11, 2, 1, 1}, {3, 5});
  const Tensor mask3 = from_vector(std::vector<double>{1, 1, 1, 0, 0, /**/ 1, 1, 1, 1, 1, /**/ 1, 1, 1, 0, 0}, {3, 5});
  CHECK(testing::max_abs_diff(logits.to_vector(), expected(src3, mask3)) < 1e-5);
}

TEST_CASE("bart dropout: dropout, attention_dropout and activation_dropout act in training only, seeded") {
  const Tensor src = from_vector(std::vector<int64_t>{0, 7, 8, 2, 0, 9, 2, 1}, {2, 4});
  const Tensor mask = from_vector(std::vector<double>{1, 1, 1, 1, 1, 1, 1, 0}, {2, 4});
  const Tensor tgt = from_vector(std::vector<int64_t>{2, 0, 5, 2, 0, 6}, {2, 3});
  for (const char* which : {"dropout", "attention_dropout", "activation_dropout"}) {
    INFO(which);
    BartConfig c = tiny();
    c.dropout = std::string(which) == "dropout" ? 0.2 : 0.0;
    c.attention_dropout = std::string(which) == "attention_dropout" ? 0.2 : 0.0;
    c.activation_dropout = std::string(which) == "activation_dropout" ? 0.2 : 0.0;
    BartForConditionalGeneration model(c, 4);
    model.train(false);
    const std::vector<double> eval = model.forward(src, mask, tgt).to_vector();
    model.train(true);
    model.dropout_generator().manual_seed(5);
    const std::vector<double> a = model.forward(src, mask, tgt).to_vector();
    model.dropout_generator().manual_seed(5);
    const std::vector<double> b = model.forward(src, mask, tgt).to_vector();
    CHECK(a == b);
    CHECK(testing::max_abs_diff(a, eval) > 1e-3);
    CHECK(testing::max_abs_diff(a, model.forward(src, mask, tgt).to_vector()) > 1e-3);
  }
}

TEST_CASE("bart: shift_tokens_right, names and shapes as transformers") {
  BartForConditionalGeneration model(tiny(), 1);
  const Tensor labels = from_vector(std::vector<int64_t>{0, 5, 6, 2, /**/ 0, 7, -100, -100}, {2, 4});
  CHECK(model.shift_tokens_right(labels).to_vector() == std::vector<double>{2, 0, 5, 6, /**/ 2, 0, 7, 1});
  bool fc1 = false, positions = false;
  for (auto& [name, t] : model.named_parameters()) {
    if (name == "model.encoder.layers.1.fc1.weight") fc1 = t.shape() == Shape{40, 24};  // nn.Linear [out, in]
    if (name == "model.decoder.embed_positions.weight") positions = t.shape() == Shape{22, 24};  // max + 2
  }
  CHECK(fc1);
  CHECK(positions);
  const auto params = model.named_parameters();
  CHECK(std::count_if(params.begin(), params.end(), [](auto& p) { return p.first == "model.shared.weight"; }) == 1);
  // final_logits_bias travels with the weights but never trains (a buffer in transformers)
  CHECK(params.front().first == "final_logits_bias");
  CHECK(!params.front().second.requires_grad());
}

TEST_CASE("bart config: defaults as facebook/bart-large, legacy keys checked, errors name the field") {
  const BartConfig c = BartConfig::from_json_string(R"({"model_type": "bart", "num_hidden_layers": 6,
      "decoder_layers": 6, "d_model": 768, "encoder_attention_heads": 12, "decoder_attention_heads": 12,
      "normalize_before": false, "add_bias_logits": false, "some_new_key": [1, 2]})", "bart.json");
  CHECK(c.encoder_layers == 6);
  CHECK(c.vocab_size == 50265);
  CHECK(c.pad_token_id == 1);
  CHECK(c.decoder_start_token_id == 2);
  CHECK(c.activation() == GeluApprox::Erf);
  CHECK(c.embed_scale() == 1.0);
  const std::string legacy = error_of([] { BartConfig::from_json_string(R"({"normalize_before": true})", "b.json"); });
  CHECK(legacy.find("b.json") != std::string::npos);
  CHECK(legacy.find("'normalize_before'") != std::string::npos);
  CHECK(error_of([] { BartConfig::from_json_string(R"({"d_model": 1000})", "b.json"); }).find("divisible") !=
        std::string::npos);
  CHECK(error_of([] { BartConfig::from_json_string(R"({"pad_token_id": 60000})", "b.json"); }).find("pad_token_id") !=
        std::string::npos);
  CHECK(error_of([] { BartConfig::from_json_string(R"({"dropout": "0.1"})", "b.json"); }).find("'dropout'") !=
        std::string::npos);
  CHECK(error_of([] { BartConfig::from_json_string(R"({"activation_function": "swish"})", "b.json"); })
            .find("activation_function") != std::string::npos);
  const BartConfig back = BartConfig::from_json_string(c.to_json().dump(), "roundtrip");
  CHECK(back.d_model == 768);
  CHECK(back.encoder_layers == 6);
}

// ---- parity with transformers on the committed fixtures (tools/oracle/model_fixtures.py)

#include "nn/bart_checkpoint.h"
#include "support/hf_reference.h"

namespace {
Tensor bart_logits(BartForConditionalGeneration& model, const testing::HfReference& ref) {
  return model.forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"),
                       ref.tensors.at("decoder_input_ids"));
}
}  // namespace

namespace {
void check_bart_parity(const std::string& dir) {
  auto model = load_bart(dir + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(dir);
  CHECK(testing::max_abs_diff(model->shift_tokens_right(ref.tensors.at("labels")).to_vector(),
                              ref.tensors.at("decoder_input_ids").to_vector()) == 0.0);
  const Tensor logits = bart_logits(*model, ref);
  const double logits_err = testing::relative_error(logits, ref.tensors.at("logits"));
  const Tensor loss = model->loss(logits, ref.tensors.at("labels"));
  const double hf_loss = ref.json.at("loss");
  MESSAGE("logits: max abs diff " << testing::max_abs_diff(logits.to_vector(), ref.tensors.at("logits").to_vector())
                                  << ", relative " << logits_err << "; loss " << std::setprecision(9) << loss.item()
                                  << " vs " << hf_loss << " (diff " << std::fabs(loss.item() - hf_loss) << ")");
  CHECK(logits_err <= 1e-5);
  CHECK(std::fabs(loss.item() - hf_loss) <= 1e-5 * std::fabs(hf_loss));
  backward(loss);
  testing::check_gradients_against(*model, ref, 1e-4, {"k_proj.bias"});
}
}  // namespace

TEST_CASE("bart parity: logits, loss and every gradient equal transformers' on a padded batch") {
  check_bart_parity("tests/fixtures/bart");
}

TEST_CASE("bart parity at the real BART-large shape (random weights, PETL_ORACLE_REAL_DIR)") {
  // tools/oracle/model_fixtures.py --shape real --out DIR writes DIR/bart (about 3 GB, not committed)
  const char* dir = std::getenv("PETL_ORACLE_REAL_DIR");
  if (!dir) PETL_SKIP("PETL_ORACLE_REAL_DIR is not set (run tools/oracle/model_fixtures.py --shape real)");
  check_bart_parity(std::string(dir) + "/bart");
}

TEST_CASE("bart parity: 10 AdamW steps give transformers' losses") {
  const std::string dir = "tests/fixtures/bart";
  auto model = load_bart(dir + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(dir);
  AdamW opt(model->trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
  const auto& expected = ref.json.at("adamw_losses");
  REQUIRE(expected.size() == 10);
  double worst = 0.0;
  for (size_t step = 0; step < expected.size(); ++step) {
    opt.zero_grad();
    const Tensor loss = model->loss(bart_logits(*model, ref), ref.tensors.at("labels"));
    const double want = expected[step];
    INFO("step " << step << ": petl " << loss.item() << ", transformers " << want);
    CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
    worst = std::max(worst, std::fabs(loss.item() - want) / std::fabs(want));
    backward(loss);
    opt.step();
  }
  MESSAGE("AdamW losses: worst relative difference " << worst);
}

// ---- model directories: the layouts files come in

#include <filesystem>

#include "nn/checkpoint.h"
#include "support/temp_dir.h"

TEST_CASE("bart checkpoint: tied copies, no prefix and a missing final_logits_bias all load, and save round-trips") {
  const std::string fixture = "tests/fixtures/bart";
  const testing::HfReference ref = testing::load_reference(fixture);
  auto model = load_bart(fixture + "/model");
  model->train(false);
  NoGradGuard no_grad;
  const std::vector<double> expected = bart_logits(*model, ref).to_vector();
  const TensorMap saved = state_dict(*model, bart_key_map());
  CHECK(saved.count("final_logits_bias") == 1);
  CHECK(saved.count("model.shared.weight") == 1);
  CHECK(saved.count("model.encoder.embed_tokens.weight") == 0);
  testing::TempDir tmp("petl-bart");
  auto load_logits = [&](const TensorMap& tensors, const std::string& name) {
    const std::filesystem::path dir = tmp.path() / name;
    std::filesystem::create_directories(dir);
    save_safetensors(dir / "model.safetensors", tensors);
    std::filesystem::copy_file(fixture + "/model/config.json", dir / "config.json");
    auto loaded = load_bart(dir);
    loaded->train(false);
    return bart_logits(*loaded, ref).to_vector();
  };
  // every tied copy written out, as older transformers versions do
  TensorMap copies = saved;
  for (const char* key : {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"})
    copies[key] = saved.at("model.shared.weight");
  CHECK(load_logits(copies, "copies") == expected);
  // only a copy, no model.shared.weight
  TensorMap only_copy = saved;
  only_copy["model.encoder.embed_tokens.weight"] = only_copy.at("model.shared.weight");
  only_copy.erase("model.shared.weight");
  CHECK(load_logits(only_copy, "only_copy") == expected);
  // BartModel-style keys without the "model." prefix
  TensorMap bare;
  for (const auto& [key, t] : saved) bare[key.starts_with("model.") ? key.substr(6) : key] = t;
  CHECK(load_logits(bare, "bare") == expected);
  // no final_logits_bias: zeros, so the logits move by exactly the bias
  TensorMap no_bias = saved;
  no_bias.erase("final_logits_bias");
  const std::vector<double> unbiased = load_logits(no_bias, "no_bias");
  const std::vector<double> bias = saved.at("final_logits_bias").to_vector();
  double worst = 0.0;
  for (size_t i = 0; i < expected.size(); ++i)
    worst = std::max(worst, std::fabs(unbiased[i] + bias[i % bias.size()] - expected[i]));
  CHECK(worst < 1e-5);
  // petl's own directory loads back
  save_bart(*model, tmp.path() / "saved");
  auto back = load_bart(tmp.path() / "saved");
  back->train(false);
  CHECK(bart_logits(*back, ref).to_vector() == expected);
  if (const char* keep = std::getenv("PETL_KEEP_WRITTEN")) {  // for model_fixtures.py --check-dir
    save_bart(*model, std::filesystem::path(keep) / "bart");
    save_safetensors(std::filesystem::path(keep) / "bart_logits.safetensors",
                     {{"input_ids", ref.tensors.at("input_ids")}, {"attention_mask", ref.tensors.at("attention_mask")},
                      {"decoder_input_ids", ref.tensors.at("decoder_input_ids")},
                      {"logits", from_vector(expected, ref.tensors.at("logits").shape())}});
  }
}

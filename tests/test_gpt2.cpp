// GPT-2: parity with transformers on the committed fixtures (logits, loss, every gradient, 10
// AdamW steps), decoding with the key/value cache, dropout placement, config.json, checkpoints.
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <string>

#include "nn/gpt2.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;

namespace {

Gpt2Config tiny() {
  Gpt2Config c;
  c.vocab_size = 60;
  c.n_positions = 32;
  c.n_embd = 24;
  c.n_layer = 2;
  c.n_head = 4;
  c.bos_token_id = c.eos_token_id = 59;
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

// Logits of the last token of each row from a full forward over `ids` with positions
// cumsum(mask) - 1, as transformers' generate() computes them: [B, V].
std::vector<double> full_last_logits(Gpt2LMHead& model, const std::vector<int64_t>& ids,
                                     const std::vector<double>& mask, int64_t B, int64_t T) {
  std::vector<int64_t> positions(ids.size());
  for (int64_t b = 0; b < B; ++b) {
    int64_t seen = 0;
    for (int64_t t = 0; t < T; ++t) {
      seen += mask[size_t(b * T + t)] != 0.0;
      positions[size_t(b * T + t)] = mask[size_t(b * T + t)] != 0.0 ? seen - 1 : 1;
    }
  }
  const Tensor logits = model.forward(from_vector(ids, {B, T}), from_vector(mask, {B, T}), from_vector(positions, {B, T}));
  return slice(logits, 1, T - 1, T).to_vector();
}

}  // namespace

TEST_CASE("gpt2 decoding: step-by-step logits with the cache equal the full forward (left-padded batch)") {
  Gpt2LMHead model(tiny(), 21);
  model.train(false);
  NoGradGuard no_grad;
  const int64_t P = 59;  // pad
  std::vector<int64_t> ids = {P, P, 3, 1, 4, /**/ 5, 9, 2, 6, 5};
  std::vector<double> mask = {0, 0, 1, 1, 1, /**/ 1, 1, 1, 1, 1};
  Tensor logits = model.start(from_vector(ids, {2, 5}), from_vector(mask, {2, 5}));
  CHECK(logits.shape() == Shape{2, 60});
  CHECK(testing::max_abs_diff(logits.to_vector(), full_last_logits(model, ids, mask, 2, 5)) < 1e-5);
  const std::vector<std::vector<int64_t>> steps = {{7, 8}, {2, 3}, {40, 11}};
  int64_t T = 5;
  for (const auto& step : steps) {
    logits = model.next(from_vector(step, {2}));
    std::vector<int64_t> grown;
    std::vector<double> grown_mask;
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t t = 0; t < T; ++t) {
        grown.push_back(ids[size_t(b * T + t)]);
        grown_mask.push_back(mask[size_t(b * T + t)]);
      }
      grown.push_back(step[size_t(b)]);
      grown_mask.push_back(1);
    }
    ids = grown, mask = grown_mask, ++T;
    CHECK(testing::max_abs_diff(logits.to_vector(), full_last_logits(model, ids, mask, 2, T)) < 1e-5);
  }
}

TEST_CASE("gpt2 decoding: select_rows reorders and duplicates the cache rows") {
  Gpt2LMHead model(tiny(), 22);
  model.train(false);
  NoGradGuard no_grad;
  const std::vector<int64_t> ids = {0, 3, 1, 4, /**/ 5, 9, 2, 6};
  const std::vector<double> mask = {0, 1, 1, 1, /**/ 1, 1, 1, 1};
  model.start(from_vector(ids, {2, 4}), from_vector(mask, {2, 4}));
  model.select_rows(from_vector(std::vector<int64_t>{1, 0, 1}, {3}));
  const Tensor logits = model.next(from_vector(std::vector<int64_t>{10, 11, 12}, {3}));  // [3, V]
  const std::vector<int64_t> expected_ids = {5, 9, 2, 6, 10, /**/ 0, 3, 1, 4, 11, /**/ 5, 9, 2, 6, 12};
  const std::vector<double> expected_mask = {1, 1, 1, 1, 1, /**/ 0, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 1};
  CHECK(testing::max_abs_diff(logits.to_vector(), full_last_logits(model, expected_ids, expected_mask, 3, 5)) < 1e-5);
}

TEST_CASE("gpt2 dropout: each of embd/attn/resid acts in training only, with seeded reproducible masks") {
  const Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
  for (const char* which : {"embd", "attn", "resid"}) {
    INFO(which);
    Gpt2Config c = tiny();
    c.embd_pdrop = std::string(which) == "embd" ? 0.2 : 0.0;
    c.attn_pdrop = std::string(which) == "attn" ? 0.2 : 0.0;
    c.resid_pdrop = std::string(which) == "resid" ? 0.2 : 0.0;
    Gpt2LMHead model(c, 5);
    model.train(false);
    const std::vector<double> eval = model.forward(ids).to_vector();
    model.train(true);
    model.dropout_generator().manual_seed(77);
    const std::vector<double> a = model.forward(ids).to_vector();
    model.dropout_generator().manual_seed(77);
    const std::vector<double> b = model.forward(ids).to_vector();
    const std::vector<double> c2 = model.forward(ids).to_vector();  // the generator moved on
    CHECK(a == b);
    CHECK(testing::max_abs_diff(a, eval) > 1e-3);
    CHECK(testing::max_abs_diff(a, c2) > 1e-3);
  }
}

TEST_CASE("gpt2 attention: the materialized path (used for attention dropout) equals the fused one") {
  // p = 1e-12 takes the dropout path but drops nothing (a uniform draw below 1e-12 is never made
  // here), so both paths must agree: masks, causal offset and prefix rows included.
  Generator gen(8);
  const Tensor q = randn({2, 3, 4, 5}, DType::F32, Device::cpu(), gen);
  const Tensor k = randn({2, 3, 6, 5}, DType::F32, Device::cpu(), gen);
  const Tensor v = randn({2, 3, 6, 5}, DType::F32, Device::cpu(), gen);
  const Tensor mask = from_vector(std::vector<double>{1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1}, {2, 6});
  Generator dropout_gen(1);
  MultiHeadAttention fused(3, 0.4, 0.0, &dropout_gen), materialized(3, 0.4, 1e-12, &dropout_gen);
  for (bool causal : {false, true}) {
    const std::vector<double> a = fused(q, k, v, mask, causal, true).to_vector();
    const std::vector<double> b = materialized(q, k, v, mask, causal, true).to_vector();
    CHECK(testing::max_abs_diff(a, b) < 1e-6);
  }
}

TEST_CASE("gpt2 config: defaults, unknown keys ignored, errors name the file and the field") {
  const Gpt2Config c = Gpt2Config::from_json_string(R"({"model_type": "gpt2", "n_embd": 64, "n_head": 4,
      "n_layer": 3, "vocab_size": 100, "bos_token_id": 99, "eos_token_id": 99, "n_inner": null,
      "task_specific_params": {"text-generation": {"do_sample": true}}, "summary_type": "cls_index"})",
                                                    "cfg.json");
  CHECK(c.n_embd == 64);
  CHECK(c.ffn_width() == 256);
  CHECK(c.n_positions == 1024);
  CHECK(c.resid_pdrop == 0.1);
  CHECK(c.activation() == GeluApprox::Tanh);
  const std::string bad_type = error_of([] { Gpt2Config::from_json_string(R"({"n_head": "four"})", "cfg.json"); });
  CHECK(bad_type.find("cfg.json") != std::string::npos);
  CHECK(bad_type.find("'n_head'") != std::string::npos);
  CHECK(bad_type.find("\"four\"") != std::string::npos);
  const std::string indivisible = error_of([] { Gpt2Config::from_json_string(R"({"n_embd": 10, "n_head": 4})", "c.json"); });
  CHECK(indivisible.find("divisible") != std::string::npos);
  CHECK(error_of([] { Gpt2Config::from_json_string(R"({"model_type": "bart"})", "c.json"); }).find("model_type") !=
        std::string::npos);
  CHECK(error_of([] { Gpt2Config::from_json_string(R"({"resid_pdrop": 1.5})", "c.json"); }).find("resid_pdrop") !=
        std::string::npos);
  CHECK(error_of([] { Gpt2Config::from_json_string("[1, 2]", "c.json"); }).find("JSON object") != std::string::npos);
  CHECK(error_of([] { Gpt2Config::from_file("/nonexistent/config.json"); }).find("/nonexistent/config.json") !=
        std::string::npos);
  // to_json round-trips
  const Gpt2Config back = Gpt2Config::from_json_string(c.to_json().dump(), "roundtrip");
  CHECK(back.n_embd == c.n_embd);
  CHECK(back.n_layer == c.n_layer);
  CHECK(back.vocab_size == c.vocab_size);
}

TEST_CASE("gpt2: parameter names and count are those of transformers' GPT2LMHeadModel") {
  const Gpt2Config c = tiny();
  Gpt2LMHead model(c, 1);
  const int64_t V = c.vocab_size, d = c.n_embd, L = c.n_layer;
  CHECK(model.parameter_count() == V * d + c.n_positions * d + L * (12 * d * d + 13 * d) + 2 * d);
  auto params = model.named_parameters();
  CHECK(params.front().first == "transformer.wte.weight");
  bool found = false;
  for (auto& [name, t] : params)
    if (name == "transformer.h.1.attn.c_attn.weight") found = t.shape() == Shape{d, 3 * d};  // Conv1D [in, out]
  CHECK(found);
  // a sequence longer than n_positions is an error, not a read past wpe
  const std::string too_long = error_of([&] { model.forward(zeros({1, c.n_positions + 1}, DType::I64)); });
  CHECK(too_long.find("n_positions") != std::string::npos);
}

// ---- parity with transformers on the committed fixtures (tools/oracle/model_fixtures.py)

#include "nn/gpt2_checkpoint.h"
#include "support/hf_reference.h"

namespace {
void check_gpt2_parity(const std::string& dir) {
  auto model = load_gpt2(dir + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(dir);
  const Tensor logits = model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"));
  const double logits_err = testing::relative_error(logits, ref.tensors.at("logits"));
  const Tensor loss = model->loss(logits, ref.tensors.at("labels"));
  const double hf_loss = ref.json.at("loss");
  MESSAGE("logits: max abs diff " << testing::max_abs_diff(logits.to_vector(), ref.tensors.at("logits").to_vector())
                                  << ", relative " << logits_err << "; loss " << std::setprecision(9) << loss.item()
                                  << " vs " << hf_loss << " (diff " << std::fabs(loss.item() - hf_loss) << ")");
  CHECK(logits_err <= 1e-5);
  CHECK(std::fabs(loss.item() - hf_loss) <= 1e-5 * std::fabs(hf_loss));
  backward(loss);
  testing::check_gradients_against(*model, ref, 1e-4);
}
}  // namespace

TEST_CASE("gpt2 parity: logits, loss and every gradient equal transformers' on a padded batch") {
  check_gpt2_parity("tests/fixtures/gpt2");
}

TEST_CASE("gpt2 parity at the real GPT-2 124M shape (random weights, PETL_ORACLE_REAL_DIR)") {
  // tools/oracle/model_fixtures.py --shape real --out DIR writes DIR/gpt2 (about 1 GB, not committed)
  const char* dir = std::getenv("PETL_ORACLE_REAL_DIR");
  if (!dir) PETL_SKIP("PETL_ORACLE_REAL_DIR is not set (run tools/oracle/model_fixtures.py --shape real)");
  check_gpt2_parity(std::string(dir) + "/gpt2");
}

TEST_CASE("gpt2 parity: 10 AdamW steps give transformers' losses") {
  const std::string dir = "tests/fixtures/gpt2";
  auto model = load_gpt2(dir + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(dir);
  AdamW opt(model->trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
  const auto& expected = ref.json.at("adamw_losses");
  REQUIRE(expected.size() == 10);
  double worst = 0.0;
  for (size_t step = 0; step < expected.size(); ++step) {
    opt.zero_grad();
    const Tensor loss = model->loss(model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask")),
                                    ref.tensors.at("labels"));
    const double want = expected[step];
    INFO("step " << step << ": petl " << loss.item() << ", transformers " << want);
    CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
    worst = std::max(worst, std::fabs(loss.item() - want) / std::fabs(want));
    backward(loss);
    opt.step();
  }
  MESSAGE("AdamW losses: worst relative difference " << worst);
}

TEST_CASE("gpt2 on CUDA: the same model code gives the CPU's logits and gradients") {
  if (!cuda_available()) PETL_SKIP("no CUDA device (petl built without CUDA or no GPU visible)");
  const std::string dir = "tests/fixtures/gpt2";
  const testing::HfReference ref = testing::load_reference(dir);
  auto cpu = load_gpt2(dir + "/model");
  auto gpu = load_gpt2(dir + "/model");
  cpu->train(false);
  gpu->train(false);
  gpu->to(Device::cuda());
  const Device cuda = Device::cuda();
  const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask"), labels = ref.tensors.at("labels");
  const Tensor cpu_logits = cpu->forward(ids, mask);
  const Tensor gpu_logits = gpu->forward(kernel::to(ids, cuda), kernel::to(mask, cuda));
  CHECK(gpu_logits.device() == cuda);
  CHECK(testing::relative_error(kernel::to(gpu_logits, Device::cpu()), cpu_logits) <= 1e-5);
  backward(cpu->loss(cpu_logits, labels));
  backward(gpu->loss(gpu_logits, kernel::to(labels, cuda)));
  const auto cpu_params = cpu->named_parameters(), gpu_params = gpu->named_parameters();
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    INFO(cpu_params[i].first);
    REQUIRE(gpu_params[i].second.grad().defined());
    CHECK(testing::relative_error(kernel::to(gpu_params[i].second.grad(), Device::cpu()), cpu_params[i].second.grad()) <= 1e-4);
  }
}

TEST_CASE("gpt2 Module::to moves parameters and keeps the layers pointing at them") {
  Gpt2LMHead model(tiny(), 3);
  const Tensor before = model.transformer->h[0]->attn->c_attn->weight;
  model.to(Device::cpu());  // same device: nothing moves
  CHECK(model.transformer->h[0]->attn->c_attn->weight.storage() == before.storage());
  if (!cuda_available()) PETL_SKIP("no CUDA device for the move itself");
  model.to(Device::cuda());
  CHECK(model.transformer->h[0]->attn->c_attn->weight.device() == Device::cuda());
  CHECK(model.named_parameters()[5].second.device() == Device::cuda());
}

// ---- model directories: layouts, dtypes, errors

#include <cstdlib>
#include <filesystem>

#include "nn/checkpoint.h"
#include "support/temp_dir.h"

namespace {
const std::string kGpt2Dir = "tests/fixtures/gpt2";

std::vector<double> fixture_logits(Gpt2LMHead& model, const testing::HfReference& ref) {
  NoGradGuard no_grad;
  return model.forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask")).to_vector();
}
}  // namespace

TEST_CASE("gpt2 checkpoint: F16 and BF16 directories load into float32 and give transformers' logits") {
  const testing::HfReference ref = testing::load_reference(kGpt2Dir);
  for (const char* dtype : {"f16", "bf16"}) {
    INFO(dtype);
    auto model = load_gpt2(kGpt2Dir + "/model_" + dtype);
    model->train(false);
    CHECK(model->transformer->wte->weight.dtype() == DType::F32);
    const Tensor logits = from_vector(fixture_logits(*model, ref), ref.tensors.at("logits").shape());
    const double err = testing::relative_error(logits, ref.tensors.at(std::string("logits_") + dtype));
    MESSAGE(std::string(dtype) << " logits rel err " << err);
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("gpt2 checkpoint: the hub layout (no prefix, attn.bias buffers, lm_head.weight) loads the same") {
  const testing::HfReference ref = testing::load_reference(kGpt2Dir);
  auto model = load_gpt2(kGpt2Dir + "/model");
  model->train(false);
  const std::vector<double> expected = fixture_logits(*model, ref);
  TensorMap hub;
  for (const auto& [key, t] : state_dict(*model, gpt2_key_map())) {
    REQUIRE(key.starts_with("transformer."));
    hub[key.substr(std::string("transformer.").size())] = t;
  }
  for (int i = 0; i < 2; ++i) {
    hub["h." + std::to_string(i) + ".attn.bias"] = ones({1, 1, 64, 64});
    hub["h." + std::to_string(i) + ".attn.masked_bias"] = scalar(-1e4);
  }
  hub["lm_head.weight"] = hub.at("wte.weight");
  testing::TempDir dir("petl-gpt2-hub");
  save_safetensors(dir.path() / "model.safetensors", hub);
  std::filesystem::copy_file(kGpt2Dir + "/model/config.json", dir.path() / "config.json");
  auto loaded = load_gpt2(dir.path());
  loaded->train(false);
  CHECK(fixture_logits(*loaded, ref) == expected);
}

TEST_CASE("gpt2 checkpoint: save and load round-trip in the transformers layout, and bad files are clear errors") {
  const testing::HfReference ref = testing::load_reference(kGpt2Dir);
  auto model = load_gpt2(kGpt2Dir + "/model");
  model->train(false);
  const std::vector<double> expected = fixture_logits(*model, ref);
  // PETL_KEEP_WRITTEN=DIR keeps the written directory (and petl's logits) for
  // tools/oracle/model_fixtures.py --check-dir, which loads it in transformers.
  const char* keep = std::getenv("PETL_KEEP_WRITTEN");
  testing::TempDir tmp("petl-gpt2-save");
  const std::filesystem::path dir = keep ? std::filesystem::path(keep) / "gpt2" : tmp.path() / "gpt2";
  save_gpt2(*model, dir);
  if (keep)
    save_safetensors(dir.parent_path() / "gpt2_logits.safetensors",
                     {{"input_ids", ref.tensors.at("input_ids")}, {"attention_mask", ref.tensors.at("attention_mask")},
                      {"logits", from_vector(expected, ref.tensors.at("logits").shape())}});
  const Checkpoint written = Checkpoint::open_dir(dir);
  CHECK(!written.contains("lm_head.weight"));
  for (const std::string& key : written.keys()) CHECK(key.starts_with("transformer."));
  CHECK(written.keys().size() == 4 + 2 * 12);
  auto loaded = load_gpt2(dir);
  loaded->train(false);
  CHECK(fixture_logits(*loaded, ref) == expected);

  TensorMap tensors = written.load_all();
  const std::filesystem::path broken = tmp.path() / "broken";
  std::filesystem::create_directories(broken);
  std::filesystem::copy_file(dir / "config.json", broken / "config.json");
  tensors.erase("transformer.h.1.mlp.c_fc.bias");
  save_safetensors(broken / "model.safetensors", tensors);
  std::string missing = error_of([&] { load_gpt2(broken); });
  CHECK(missing.find("transformer.h.1.mlp.c_fc.bias") != std::string::npos);
  CHECK(missing.find(broken.string()) != std::string::npos);
  tensors["transformer.h.1.mlp.c_fc.bias"] = zeros({7});
  save_safetensors(broken / "model.safetensors", tensors);
  const std::string shape = error_of([&] { load_gpt2(broken); });
  CHECK(shape.find("transformer.h.1.mlp.c_fc.bias") != std::string::npos);
  CHECK(shape.find("[7]") != std::string::npos);
  CHECK(shape.find("[192]") != std::string::npos);
  tensors["transformer.h.1.mlp.c_fc.bias"] = zeros({192});
  tensors["transformer.h.1.mlp.extra"] = zeros({3});
  save_safetensors(broken / "model.safetensors", tensors);
  CHECK(error_of([&] { load_gpt2(broken); }).find("transformer.h.1.mlp.extra") != std::string::npos);
}

TEST_CASE("gpt2 checkpoint: a sharded directory (model.safetensors.index.json) loads the same") {
  const testing::HfReference ref = testing::load_reference(kGpt2Dir);
  auto model = load_gpt2(kGpt2Dir + "/model");
  model->train(false);
  const std::vector<double> expected = fixture_logits(*model, ref);
  testing::TempDir dir("petl-gpt2-sharded");
  save_checkpoint(dir.path(), state_dict(*model, gpt2_key_map()), /*max_shard_bytes=*/100000);
  std::filesystem::copy_file(kGpt2Dir + "/model/config.json", dir.path() / "config.json");
  CHECK(std::filesystem::exists(dir.path() / "model.safetensors.index.json"));
  CHECK(!std::filesystem::exists(dir.path() / "model.safetensors"));
  auto loaded = load_gpt2(dir.path());
  loaded->train(false);
  CHECK(fixture_logits(*loaded, ref) == expected);
}

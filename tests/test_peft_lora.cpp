// LoRA (peft/lora.h): identity at init, the two forms, merge/unmerge, what trains, gradcheck, the
// parameter counts of PEFT.md §5.4, and parity and save/load against Hugging Face `peft`
// (tools/oracle/peft_fixtures.py -> tests/fixtures/peft/lora).
#include <cmath>
#include <cstdlib>

#include "autograd/gradcheck.h"
#include "nn/atomic_file.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "peft/peft_format.h"
#include "support/peft_reference.h"
#include "support/temp_dir.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

std::unique_ptr<Gpt2LMHead> fixture_gpt2() {
  auto model = load_gpt2("tests/fixtures/gpt2/model");
  model->train(false);
  return model;
}

LoraOptions qv_blocks(int64_t r, double alpha) {
  LoraOptions o;
  o.r = r;
  o.alpha = alpha;
  o.enabled_blocks = {true, false, true};
  return o;
}

// Seeded non-zero B, so that the update is not the identity.
void randomize_B(const Lora& lora, uint64_t seed) {
  Generator gen(seed);
  for (const auto& l : lora.layers()) assign(l->lora_B, randn(l->lora_B.shape(), DType::F32, Device::cpu(), gen) * 0.1);
}

Tensor parameter(const Module& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p;
  FAIL("no parameter " << name);
  return Tensor();
}

double relative_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0.0;
  for (double v : b) scale = std::max(scale, std::fabs(v));
  return testing::max_abs_diff(a, b) / scale;
}

}  // namespace

TEST_CASE("lora: at init (B = 0) both forms leave the fixture GPT-2's logits exactly unchanged") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  const std::vector<double> base = testing::fixture_logits(*model, c).to_vector();
  Generator init(1);
  LoraOptions whole;
  whole.r = 4;
  Lora a(*model, model->sites(), {"c_attn"}, whole, init);
  Lora b(*model, model->sites(), {"attn.c_proj", "mlp.c_fc"}, qv_blocks(2, 4.0), init);
  CHECK(a.layers().size() == 2);
  CHECK(b.layers().size() == 4);
  CHECK(testing::fixture_logits(*model, c).to_vector() == base);
}

TEST_CASE("lora parity: logits, loss and lora_A/lora_B gradients equal peft's (c_attn, r=4, alpha=8)") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora/adapter");
  CHECK(lora->options().r == 4);
  CHECK(lora->options().scaling() == 2.0);
  CHECK(lora->layers().size() == 2);
  testing::check_peft_parity(*model, *lora, c);
}

TEST_CASE("lora parity: 10 AdamW steps over the adapter give peft's losses") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora/adapter");
  testing::check_peft_adamw(*model, *lora, c);
}

TEST_CASE("lora merge: merged and unmerged logits agree within 1e-6 relative, and with peft's merge_and_unload") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  const Tensor c_attn = parameter(*model, "transformer.h.0.attn.c_attn.weight");
  const std::vector<double> base_weight = c_attn.to_vector();
  auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora/adapter");
  NoGradGuard no_grad;
  const std::vector<double> unmerged = testing::fixture_logits(*model, c).to_vector();
  const int64_t before = kernel_counters().matmul_calls;
  testing::fixture_logits(*model, c);
  const int64_t with_branch = kernel_counters().matmul_calls - before;
  lora->merge();
  const int64_t before_merged = kernel_counters().matmul_calls;
  const std::vector<double> merged = testing::fixture_logits(*model, c).to_vector();
  CHECK(kernel_counters().matmul_calls - before_merged == with_branch - 2 * 2);  // no x A, (x A) B per layer
  const double err = relative_diff(merged, unmerged);
  const double err_peft = relative_diff(merged, c.peft.tensors.at("merged_logits").to_vector());
  MESSAGE("merged vs unmerged: " << err << "; merged vs peft merge_and_unload: " << err_peft);
  CHECK(err <= 1e-6);
  CHECK(err_peft <= 1e-5);
  CHECK_THROWS_AS(lora->merge(), Error);
  lora->unmerge();
  const std::vector<double> restored = c_attn.to_vector();
  CHECK(testing::max_abs_diff(restored, base_weight) <= 1e-6);
  CHECK(relative_diff(testing::fixture_logits(*model, c).to_vector(), unmerged) <= 1e-6);
}

TEST_CASE("lora: the loralib q/v column-block form leaves k untouched and equals rank-2r LoRA with block-diagonal B") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  const int64_t d = 48, r = 2;
  Generator init(3);
  Lora qv(*model, model->sites(), {"c_attn"}, qv_blocks(r, 8.0), init);
  randomize_B(qv, 4);
  for (const auto& l : qv.layers()) {
    CHECK(l->lora_A.shape() == Shape{2 * r, d});
    CHECK(l->lora_B.shape() == Shape{2 * d, r});
    const Tensor delta = l->delta_weight();  // [d, 3d]; columns d:2d are k
    CHECK(testing::max_abs(slice(delta, 1, d, 2 * d)) == 0.0);
    CHECK(testing::max_abs(slice(delta, 1, 0, d)) > 0.0);
    CHECK(testing::max_abs(slice(delta, 1, 2 * d, 3 * d)) > 0.0);
  }
  NoGradGuard no_grad;
  const std::vector<double> blocks = testing::fixture_logits(*model, c).to_vector();
  qv.detach();
  // the same update as one whole-matrix LoRA of rank 2r: A = [A_q; A_v], B = [[B_q, 0], [0, 0], [0, B_v]],
  // with alpha doubled so that s = alpha / r is unchanged
  LoraOptions whole;
  whole.r = 2 * r;
  whole.alpha = 16.0;
  Lora w(*model, model->sites(), {"c_attn"}, whole, init);
  for (size_t i = 0; i < w.layers().size(); ++i) {
    const auto& src = qv.layers()[i];
    const auto& dst = w.layers()[i];
    assign(dst->lora_A, src->lora_A);
    Tensor B = zeros({3 * d, 2 * r});
    assign(slice(slice(B, 0, 0, d), 1, 0, r), slice(src->lora_B, 0, 0, d));
    assign(slice(slice(B, 0, 2 * d, 3 * d), 1, r, 2 * r), slice(src->lora_B, 0, d, 2 * d));
    assign(dst->lora_B, B);
  }
  const double err = relative_diff(testing::fixture_logits(*model, c).to_vector(), blocks);
  MESSAGE("column blocks vs block-diagonal whole-matrix LoRA: " << err);
  CHECK(err <= 1e-6);
}

TEST_CASE("lora: with the base frozen only lora_A and lora_B get gradients, and no weight-gradient GEMM runs for the base") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  Generator init(5);
  LoraOptions o;
  o.r = 4;
  Lora lora(*model, model->sites(), {"c_attn"}, o, init);
  randomize_B(lora, 6);
  CHECK(model->parameter_count(true) == 0);
  const Tensor loss = model->loss(testing::fixture_logits(*model, c), c.gpt2.tensors.at("labels"));
  const int64_t before = kernel_counters().matmul_calls;
  backward(loss);
  // Backward GEMMs: the head's dh (1). Block 1: dX of mlp.c_proj, c_fc, attn.c_proj, c_attn (4) and the
  // LoRA branch's d(xA), dB, dA, dx (4). Block 0: dX of mlp.c_proj, c_fc, attn.c_proj (3; c_attn's input
  // needs no gradient) and d(xA), dB, dA (3). No dW of a frozen weight: 1 + 8 + 6 = 15.
  CHECK(kernel_counters().matmul_calls - before == 15);
  for (const auto& [name, p] : model->named_parameters()) {
    INFO(name);
    CHECK(!p.grad().defined());
  }
  for (const auto& l : lora.layers()) {
    CHECK(l->lora_A.grad().defined());
    CHECK(l->lora_B.grad().defined());
  }
}

TEST_CASE("lora gradcheck (f64): one LoRA update of both forms, d/dx, d/dA, d/dB") {
  for (bool blocks : {false, true}) {
    INFO((blocks ? "column blocks" : "whole matrix"));
    Generator gen(7);
    LinearTarget t;
    t.name = "toy";
    t.in = 5;
    t.out = 6;
    t.weight = randn({5, 6}, DType::F64, Device::cpu(), gen);
    LoraOptions o;
    o.r = 2;
    o.alpha = 3.0;
    if (blocks) o.enabled_blocks = {true, false, true};
    LoraLinear layer(t, o, gen);
    const Tensor x = randn({3, 5}, DType::F64, Device::cpu(), gen).set_requires_grad(true);
    const Tensor A = randn(layer.lora_A.shape(), DType::F64, Device::cpu(), gen).set_requires_grad(true);
    const Tensor B = randn(layer.lora_B.shape(), DType::F64, Device::cpu(), gen).set_requires_grad(true);
    const GradcheckResult res = gradcheck(
        [&](const std::vector<Tensor>& in) {
          layer.lora_A = in[1];
          layer.lora_B = in[2];
          return layer.apply(in[0], matmul(in[0], t.weight));
        },
        {x, A, B});
    INFO(res.report);
    CHECK(res.ok);
    CHECK(res.checked == 15 + A.numel() + B.numel());
  }
}

TEST_CASE("lora trainable parameters: 4·r·d·L on q and v (PEFT.md §5.4), the same for peft's fused c_attn") {
  // GPT-2 small (d 768, L 12) and medium (d 1024, L 24) at r = 4; counted from the modules LoRA
  // builds on one c_attn [d, 3d], times L.
  struct Shape_ {
    int64_t d, L, expected;
  };
  for (const Shape_ s : {Shape_{768, 12, 147456}, Shape_{1024, 24, 393216}}) {
    LinearTarget t;
    t.name = "c_attn";
    t.in = s.d;
    t.out = 3 * s.d;
    t.weight = zeros({s.d, 3 * s.d});
    Generator gen(0);
    LoraLinear qv(t, qv_blocks(4, 32.0), gen);
    LoraOptions whole;
    whole.r = 4;
    LoraLinear fused(t, whole, gen);
    CHECK(qv.parameter_count(true) * s.L == s.expected);
    CHECK(fused.parameter_count(true) * s.L == s.expected);
  }
}

TEST_CASE("lora save/load: peft's directory layout, read back exactly") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  Generator init(8);
  LoraOptions o;
  o.r = 2;
  o.alpha = 6.0;
  o.dropout = 0.1;
  auto lora = std::make_unique<Lora>(*model, model->sites(), std::vector<std::string>{"c_attn", "mlp.c_fc"}, o, init);
  randomize_B(*lora, 9);
  lora->train(false);  // dropout 0.1 on the branch input acts only in training
  NoGradGuard no_grad;
  const Tensor expected = testing::fixture_logits(*model, c);
  testing::TempDir tmp("petl-lora");
  save_peft_lora(*lora, tmp.path() / "adapter", {"tests/fixtures/gpt2/model"});
  const nlohmann::json config = read_json_file(tmp.path() / "adapter" / "adapter_config.json");
  CHECK(config.at("peft_type") == "LORA");
  CHECK(config.at("r") == 2);
  CHECK(config.at("lora_alpha") == 6.0);
  CHECK(config.at("fan_in_fan_out") == true);
  CHECK(config.at("target_modules") == nlohmann::json::array({"c_attn", "mlp.c_fc"}));
  std::map<std::string, std::string> metadata;
  const TensorMap saved = load_safetensors(tmp.path() / "adapter" / "adapter_model.safetensors", &metadata);
  CHECK(metadata == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(saved.size() == 8);
  CHECK(saved.at("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight").shape() == Shape{192, 2});
  CHECK(saved.at("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape() == Shape{2, 48});
  if (const char* keep = std::getenv("PETL_KEEP_WRITTEN")) {  // for peft_fixtures.py --check-dir
    save_peft_lora(*lora, std::filesystem::path(keep) / "lora", {"tests/fixtures/gpt2/model"});
    save_safetensors(std::filesystem::path(keep) / "lora_logits.safetensors",
                     {{"input_ids", c.gpt2.tensors.at("input_ids")},
                      {"attention_mask", c.gpt2.tensors.at("attention_mask")}, {"logits", expected}});
  }
  lora->detach();
  auto fresh = fixture_gpt2();
  auto back = load_peft_lora(*fresh, fresh->sites(), tmp.path() / "adapter");
  CHECK(back->options().dropout == 0.1);
  back->train(false);
  CHECK(testing::fixture_logits(*fresh, c).to_vector() == expected.to_vector());
}

TEST_CASE("lora load: config and tensor errors name the file and the key") {
  auto model = fixture_gpt2();
  testing::TempDir tmp("petl-lora-bad");
  const auto dir = tmp.path();
  std::filesystem::copy("tests/fixtures/peft/lora/adapter", dir / "a");
  const nlohmann::json good = read_json_file(dir / "a" / "adapter_config.json");
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json c = good;
    c[key] = value;
    write_file_atomic(dir / "a" / "adapter_config.json", c.dump(2));
  };
  auto message = [&]() -> std::string {
    auto fresh = fixture_gpt2();
    try {
      load_peft_lora(*fresh, fresh->sites(), dir / "a");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  with("peft_type", "IA3");
  CHECK(message().find("\"peft_type\" is \"IA3\", expected \"LORA\"") != std::string::npos);
  with("use_dora", true);
  CHECK(message().find("\"use_dora\"") != std::string::npos);
  with("target_modules", ".*c_attn");
  CHECK(message().find("regular expression") != std::string::npos);
  with("target_modules", nlohmann::json::array({"q_proj"}));
  CHECK(message().find("no linear site matches") != std::string::npos);
  with("r", 3);
  CHECK(message().find("has shape [4, 48], expected [3, 48]") != std::string::npos);
  with("r", 4.5);
  CHECK(message().find("\"r\" must be an integer") != std::string::npos);
  with("r", 4);
  CHECK(message().empty());
  TensorMap tensors = load_safetensors(dir / "a" / "adapter_model.safetensors");
  tensors.erase("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight");
  save_safetensors(dir / "a" / "adapter_model.safetensors", tensors, {{"format", "pt"}});
  CHECK(message().find("missing tensor \"base_model.model.transformer.h.1.attn.c_attn.lora_B.weight\"") !=
        std::string::npos);
  tensors["base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"] = zeros({144, 4});
  tensors["base_model.model.transformer.h.1.attn.c_proj.lora_A.weight"] = zeros({4, 48});
  save_safetensors(dir / "a" / "adapter_model.safetensors", tensors, {{"format", "pt"}});
  CHECK(message().find("belongs to no module") != std::string::npos);
}

// ---- BART: peft's default q_proj, v_proj (encoder self, decoder self and cross attention), stored
// [out, in] (nn.Linear), so merging adds ΔWᵀ.

#include "nn/bart_checkpoint.h"

namespace {
std::unique_ptr<BartForConditionalGeneration> fixture_bart() {
  auto model = load_bart("tests/fixtures/bart/model");
  model->train(false);
  return model;
}
}  // namespace

TEST_CASE("lora parity on BART: q_proj/v_proj logits, gradients and 10 AdamW steps equal peft's") {
  const testing::PeftCase c = testing::load_peft_case("lora_bart", "bart");
  {
    auto model = fixture_bart();
    auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora_bart/adapter");
    CHECK(lora->layers().size() == 2 * 2 + 2 * 2 * 2);  // encoder: 2 layers x (q, v); decoder: x 2 attentions
    testing::check_peft_parity(*model, *lora, c);
  }
  auto model = fixture_bart();
  auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora_bart/adapter");
  testing::check_peft_adamw(*model, *lora, c);
}

TEST_CASE("lora merge on BART ([out, in] weights): merged vs unmerged within 1e-6, and vs peft's merge_and_unload") {
  const testing::PeftCase c = testing::load_peft_case("lora_bart", "bart");
  auto model = fixture_bart();
  auto lora = load_peft_lora(*model, model->sites(), "tests/fixtures/peft/lora_bart/adapter");
  NoGradGuard no_grad;
  const std::vector<double> unmerged = testing::fixture_logits(*model, c).to_vector();
  lora->merge();
  const std::vector<double> merged = testing::fixture_logits(*model, c).to_vector();
  const double err = relative_diff(merged, unmerged);
  const double err_peft = relative_diff(merged, c.peft.tensors.at("merged_logits").to_vector());
  MESSAGE("BART merged vs unmerged: " << err << "; vs peft merge_and_unload: " << err_peft);
  CHECK(err <= 1e-6);
  CHECK(err_peft <= 1e-5);
  lora->unmerge();
  CHECK(relative_diff(testing::fixture_logits(*model, c).to_vector(), unmerged) <= 1e-6);
}

TEST_CASE("lora dropout acts on the branch input only, and only in training") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("lora");
  const std::vector<double> base = testing::fixture_logits(*model, c).to_vector();
  Generator init(10);
  LoraOptions o;
  o.r = 4;
  o.dropout = 0.5;
  Lora lora(*model, model->sites(), {"c_attn"}, o, init);
  NoGradGuard no_grad;
  lora.train(true);
  CHECK(testing::fixture_logits(*model, c).to_vector() == base);  // B = 0: dropout never reaches the base path
  randomize_B(lora, 11);
  lora.train(false);
  const std::vector<double> eval1 = testing::fixture_logits(*model, c).to_vector();
  CHECK(testing::fixture_logits(*model, c).to_vector() == eval1);  // deterministic in eval
  lora.train(true);
  const std::vector<double> train1 = testing::fixture_logits(*model, c).to_vector();
  const std::vector<double> train2 = testing::fixture_logits(*model, c).to_vector();
  CHECK(train1 != eval1);
  CHECK(train1 != train2);  // fresh masks each call
}

TEST_CASE("lora save/load on BART: fan_in_fan_out false, seq2seq task, read back exactly") {
  const testing::PeftCase c = testing::load_peft_case("lora_bart", "bart");
  auto model = fixture_bart();
  Generator init(12);
  LoraOptions o;
  o.r = 2;
  o.alpha = 4.0;
  auto lora = std::make_unique<Lora>(*model, model->sites(), std::vector<std::string>{"q_proj", "v_proj", "fc1"}, o, init);
  randomize_B(*lora, 13);
  NoGradGuard no_grad;
  const Tensor expected = testing::fixture_logits(*model, c);
  testing::TempDir tmp("petl-lora-bart");
  const PeftSaveInfo info{"tests/fixtures/bart/model", "SEQ_2_SEQ_LM"};
  save_peft_lora(*lora, tmp.path() / "adapter", info);
  const nlohmann::json config = read_json_file(tmp.path() / "adapter" / "adapter_config.json");
  CHECK(config.at("fan_in_fan_out") == false);
  CHECK(config.at("task_type") == "SEQ_2_SEQ_LM");
  const TensorMap saved = load_safetensors(tmp.path() / "adapter" / "adapter_model.safetensors");
  CHECK(saved.size() == 2 * (12 + 4));  // 12 q/v projections and 4 fc1, lora_A and lora_B each
  CHECK(saved.at("base_model.model.model.decoder.layers.1.encoder_attn.v_proj.lora_B.weight").shape() == Shape{32, 2});
  CHECK(saved.at("base_model.model.model.encoder.layers.0.fc1.lora_A.weight").shape() == Shape{2, 32});
  if (const char* keep = std::getenv("PETL_KEEP_WRITTEN")) {  // for peft_fixtures.py --check-dir
    save_peft_lora(*lora, std::filesystem::path(keep) / "lora_bart", info);
    save_safetensors(std::filesystem::path(keep) / "lora_bart_logits.safetensors",
                     {{"input_ids", c.gpt2.tensors.at("input_ids")},
                      {"attention_mask", c.gpt2.tensors.at("attention_mask")},
                      {"decoder_input_ids", c.gpt2.tensors.at("decoder_input_ids")}, {"logits", expected}});
  }
  lora->detach();
  auto fresh = fixture_bart();
  auto back = load_peft_lora(*fresh, fresh->sites(), tmp.path() / "adapter");
  CHECK(testing::fixture_logits(*fresh, c).to_vector() == expected.to_vector());
}

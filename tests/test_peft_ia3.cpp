// (IA)^3 (peft/ia3.h): identity at init, parity with `peft` (logits, gradients, 10 AdamW steps),
// merge/unmerge, what trains, gradcheck, counts (PEFT.md §11.3) and the peft directory both ways.
#include <cmath>
#include <cstdlib>

#include "autograd/gradcheck.h"
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

const std::vector<std::string> kTargets = {"c_attn", "mlp.c_proj"}, kFeedforward = {"mlp.c_proj"};

// The values of every base tensor (state_dict shares storage with the model; this copies).
std::map<std::string, std::vector<double>> snapshot(const Module& m) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, t] : m.named_parameters()) out[name] = t.to_vector();
  return out;
}

double relative_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0.0;
  for (double v : b) scale = std::max(scale, std::fabs(v));
  return testing::max_abs_diff(a, b) / scale;
}

}  // namespace

TEST_CASE("ia3: at init (l = 1) the fixture GPT-2's logits are exactly unchanged") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  const std::vector<double> base = testing::fixture_logits(*model, c).to_vector();
  Ia3 ia3(*model, model->sites(), kTargets, kFeedforward);
  REQUIRE(ia3.layers().size() == 4);
  CHECK(ia3.layers()[0]->ia3_l.shape() == Shape{144, 1});  // c_attn: output scaling
  CHECK(ia3.layers()[1]->ia3_l.shape() == Shape{1, 192});  // mlp.c_proj: input scaling
  // output scaling by 1 is exact; input scaling adds ((1 - 1) x) W = 0 exactly
  CHECK(testing::fixture_logits(*model, c).to_vector() == base);
}

TEST_CASE("ia3 parity: logits, loss and ia3_l gradients equal peft's (c_attn + mlp.c_proj)") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3/adapter");
  testing::check_peft_parity(*model, *ia3, c);
}

TEST_CASE("ia3 parity: 10 AdamW steps over the scaling vectors give peft's losses") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3/adapter");
  testing::check_peft_adamw(*model, *ia3, c);
}

TEST_CASE("ia3 merge: merged and unmerged logits agree within 1e-6 relative, and with peft's merge_and_unload") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  const auto before = snapshot(*model);
  auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3/adapter");
  NoGradGuard no_grad;
  const std::vector<double> unmerged = testing::fixture_logits(*model, c).to_vector();
  ia3->merge();
  const std::vector<double> merged = testing::fixture_logits(*model, c).to_vector();
  const double err = relative_diff(merged, unmerged);
  const double err_peft = relative_diff(merged, c.peft.tensors.at("merged_logits").to_vector());
  MESSAGE("merged vs unmerged: " << err << "; merged vs peft merge_and_unload: " << err_peft);
  CHECK(err <= 1e-6);
  CHECK(err_peft <= 1e-5);
  const auto after = snapshot(*model);
  CHECK(after.at("transformer.h.0.mlp.c_proj.bias") == before.at("transformer.h.0.mlp.c_proj.bias"));
  CHECK(after.at("transformer.h.0.mlp.c_proj.weight") != before.at("transformer.h.0.mlp.c_proj.weight"));
  ia3->unmerge();
  double worst = 0.0;
  for (const auto& [name, values] : snapshot(*model)) worst = std::max(worst, relative_diff(values, before.at(name)));
  MESSAGE("unmerge: worst relative change of a base tensor " << worst);
  CHECK(worst <= 1e-6);
  CHECK(relative_diff(testing::fixture_logits(*model, c).to_vector(), unmerged) <= 1e-6);

  // The fixture's biases are zero (transformers' init); with non-zero ones the output scaling must
  // scale c_attn's bias too, and input scaling must leave mlp.c_proj's alone.
  Generator gen(2);
  for (const auto& [name, p] : model->named_parameters())
    if (name.ends_with(".bias") && name.find(".ln_") == std::string::npos)
      assign(p, randn(p.shape(), DType::F32, Device::cpu(), gen) * 0.1);
  const std::vector<double> biased = testing::fixture_logits(*model, c).to_vector();
  const auto biased_weights = snapshot(*model);
  ia3->merge();
  const double err_biased = relative_diff(testing::fixture_logits(*model, c).to_vector(), biased);
  MESSAGE("with non-zero biases, merged vs unmerged: " << err_biased);
  CHECK(err_biased <= 1e-6);
  const auto merged_weights = snapshot(*model);
  CHECK(merged_weights.at("transformer.h.0.attn.c_attn.bias") != biased_weights.at("transformer.h.0.attn.c_attn.bias"));
  CHECK(merged_weights.at("transformer.h.0.mlp.c_proj.bias") == biased_weights.at("transformer.h.0.mlp.c_proj.bias"));
}

TEST_CASE("ia3: only the scaling vectors get gradients, and no weight-gradient GEMM runs for the frozen base") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3/adapter");
  const Tensor loss = model->loss(testing::fixture_logits(*model, c), c.gpt2.tensors.at("labels"));
  const int64_t before = kernel_counters().matmul_calls;
  backward(loss);
  // Backward GEMMs: the head's dh (1). Block 1: dX of mlp.c_proj, c_fc, attn.c_proj, c_attn (4) and
  // the input-scaling branch ((l - 1) x) W's dX (1). Block 0: dX of mlp.c_proj, c_fc, attn.c_proj (3)
  // and the branch's dX (1); c_attn's input needs no gradient. 1 + 5 + 4 = 10, no dW.
  CHECK(kernel_counters().matmul_calls - before == 10);
  for (const auto& [name, p] : model->named_parameters()) {
    INFO(name);
    CHECK(!p.grad().defined());
  }
  for (const auto& l : ia3->layers()) CHECK(l->ia3_l.grad().defined());
}

TEST_CASE("ia3 gradcheck (f64): output and input scaling, d/dx and d/dl") {
  for (bool feedforward : {false, true}) {
    INFO((feedforward ? "input scaling" : "output scaling"));
    Generator gen(7);
    LinearTarget t;
    t.name = "toy";
    t.in = 5;
    t.out = 4;
    t.weight = randn({5, 4}, DType::F64, Device::cpu(), gen);
    t.bias = randn({4}, DType::F64, Device::cpu(), gen);
    Ia3Linear layer(t, feedforward);
    const Tensor x = randn({3, 5}, DType::F64, Device::cpu(), gen).set_requires_grad(true);
    const Tensor l = (randn(layer.ia3_l.shape(), DType::F64, Device::cpu(), gen) * 0.3 + 1.0).detach().set_requires_grad(true);
    const GradcheckResult res = gradcheck(
        [&](const std::vector<Tensor>& in) {
          layer.ia3_l = in[1];
          return layer.apply(in[0], matmul(in[0], t.weight) + t.bias);
        },
        {x, l});
    INFO(res.report);
    CHECK(res.ok);
    CHECK(res.checked == 15 + l.numel());
  }
}

TEST_CASE("ia3 trainable parameters: peft's gpt2 default (c_attn + mlp.c_proj) = 7·d·L (PEFT.md §11.3)") {
  struct Case {
    int64_t d, L, expected;
  };
  for (const Case s : {Case{768, 12, 64512}, Case{1024, 24, 172032}}) {
    LinearTarget c_attn, c_proj;
    c_attn.in = s.d, c_attn.out = 3 * s.d, c_attn.weight = zeros({s.d, 3 * s.d});
    c_proj.in = 4 * s.d, c_proj.out = s.d, c_proj.weight = zeros({4 * s.d, s.d});
    Ia3Linear a(c_attn, false), f(c_proj, true);
    CHECK((a.parameter_count(true) + f.parameter_count(true)) * s.L == s.expected);
  }
}

TEST_CASE("ia3 save/load: peft's directory layout, read back exactly") {
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  auto ia3 = std::make_unique<Ia3>(*model, model->sites(), kTargets, kFeedforward);
  Generator gen(3);
  for (const auto& l : ia3->layers()) assign(l->ia3_l, randn(l->ia3_l.shape(), DType::F32, Device::cpu(), gen) * 0.2 + 1.0);
  NoGradGuard no_grad;
  const Tensor expected = testing::fixture_logits(*model, c);
  testing::TempDir tmp("petl-ia3");
  save_peft_ia3(*ia3, tmp.path() / "adapter", {"tests/fixtures/gpt2/model"});
  const nlohmann::json config = read_json_file(tmp.path() / "adapter" / "adapter_config.json");
  CHECK(config.at("peft_type") == "IA3");
  CHECK(config.at("feedforward_modules") == nlohmann::json::array({"mlp.c_proj"}));
  const TensorMap saved = load_safetensors(tmp.path() / "adapter" / "adapter_model.safetensors");
  CHECK(saved.size() == 4);
  CHECK(saved.at("base_model.model.transformer.h.1.mlp.c_proj.ia3_l").shape() == Shape{1, 192});
  if (const char* keep = std::getenv("PETL_KEEP_WRITTEN")) {  // for peft_fixtures.py --check-dir
    save_peft_ia3(*ia3, std::filesystem::path(keep) / "ia3", {"tests/fixtures/gpt2/model"});
    save_safetensors(std::filesystem::path(keep) / "ia3_logits.safetensors",
                     {{"input_ids", c.gpt2.tensors.at("input_ids")},
                      {"attention_mask", c.gpt2.tensors.at("attention_mask")}, {"logits", expected}});
  }
  ia3->detach();
  auto fresh = fixture_gpt2();
  auto back = load_peft_ia3(*fresh, fresh->sites(), tmp.path() / "adapter");
  CHECK(testing::fixture_logits(*fresh, c).to_vector() == expected.to_vector());
  // a feedforward module outside the targets is an error
  CHECK_THROWS_WITH_AS(Ia3(*fresh, fresh->sites(), {"c_attn"}, {"mlp.c_proj"}),
                       doctest::Contains("feedforward module 'mlp.c_proj' matches none of the target modules"), Error);
}

// ---- BART: peft's default q_proj, v_proj (output scaling) and fc2 (input scaling), [out, in] weights.

#include "nn/bart_checkpoint.h"

namespace {
std::unique_ptr<BartForConditionalGeneration> fixture_bart() {
  auto model = load_bart("tests/fixtures/bart/model");
  model->train(false);
  return model;
}
}  // namespace

TEST_CASE("ia3 parity on BART: q_proj/v_proj/fc2 logits, gradients, 10 AdamW steps and merge equal peft's") {
  const testing::PeftCase c = testing::load_peft_case("ia3_bart", "bart");
  {
    auto model = fixture_bart();
    auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3_bart/adapter");
    testing::check_peft_parity(*model, *ia3, c);
  }
  {
    auto model = fixture_bart();
    auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3_bart/adapter");
    testing::check_peft_adamw(*model, *ia3, c);
  }
  auto model = fixture_bart();
  auto ia3 = load_peft_ia3(*model, model->sites(), "tests/fixtures/peft/ia3_bart/adapter");
  NoGradGuard no_grad;
  const std::vector<double> unmerged = testing::fixture_logits(*model, c).to_vector();
  ia3->merge();
  const std::vector<double> merged = testing::fixture_logits(*model, c).to_vector();
  const double err = relative_diff(merged, unmerged);
  const double err_peft = relative_diff(merged, c.peft.tensors.at("merged_logits").to_vector());
  MESSAGE("BART merged vs unmerged: " << err << "; vs peft merge_and_unload: " << err_peft);
  CHECK(err <= 1e-6);
  CHECK(err_peft <= 1e-5);
}

TEST_CASE("ia3 paper placement on GPT-2: k and v blocks of c_attn + l_ff = 6·d·L, q untouched, merge agrees") {
  struct Case {
    int64_t d, L, expected;
  };
  for (const Case s : {Case{768, 12, 55296}, Case{1024, 24, 147456}}) {
    LinearTarget c_attn, c_proj;
    c_attn.in = s.d, c_attn.out = 3 * s.d, c_attn.weight = zeros({s.d, 3 * s.d});
    c_proj.in = 4 * s.d, c_proj.out = s.d, c_proj.weight = zeros({4 * s.d, s.d});
    Ia3Linear kv(c_attn, false, {false, true, true}), f(c_proj, true);
    CHECK((kv.parameter_count(true) + f.parameter_count(true)) * s.L == s.expected);
  }
  auto model = fixture_gpt2();
  const testing::PeftCase c = testing::load_peft_case("ia3");
  const std::vector<double> base = testing::fixture_logits(*model, c).to_vector();
  Ia3 ia3(*model, model->sites(), kTargets, kFeedforward, {false, true, true});
  CHECK(ia3.layers()[0]->ia3_l.shape() == Shape{96, 1});
  CHECK(testing::fixture_logits(*model, c).to_vector() == base);
  Generator gen(4);
  for (const auto& l : ia3.layers()) assign(l->ia3_l, randn(l->ia3_l.shape(), DType::F32, Device::cpu(), gen) * 0.2 + 1.0);
  const std::vector<double> q_scale = slice(ia3.layers()[0]->output_scale(), 0, 0, 48).to_vector();
  CHECK(q_scale == std::vector<double>(48, 1.0));
  NoGradGuard no_grad;
  const std::vector<double> unmerged = testing::fixture_logits(*model, c).to_vector();
  CHECK(unmerged != base);
  ia3.merge();
  const double err = relative_diff(testing::fixture_logits(*model, c).to_vector(), unmerged);
  MESSAGE("k/v blocks: merged vs unmerged " << err);
  CHECK(err <= 1e-6);
  testing::TempDir tmp("petl-ia3-blocks");
  CHECK_THROWS_AS(save_peft_ia3(ia3, tmp.path() / "a"), Error);
}

TEST_CASE("ia3 gradcheck (f64): output scaling of k and v blocks only") {
  Generator gen(9);
  LinearTarget t;
  t.name = "toy";
  t.in = 4;
  t.out = 6;
  t.weight = randn({4, 6}, DType::F64, Device::cpu(), gen);
  Ia3Linear layer(t, false, {false, true, true});
  const Tensor x = randn({3, 4}, DType::F64, Device::cpu(), gen).set_requires_grad(true);
  const Tensor l = (randn({4, 1}, DType::F64, Device::cpu(), gen) * 0.3 + 1.0).detach().set_requires_grad(true);
  const GradcheckResult res = gradcheck(
      [&](const std::vector<Tensor>& in) {
        layer.ia3_l = in[1];
        return layer.apply(in[0], matmul(in[0], t.weight));
      },
      {x, l});
  INFO(res.report);
  CHECK(res.ok);
}

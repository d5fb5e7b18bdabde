// Prompt tuning (peft/prompt_tuning.h): parity with Hugging Face peft 0.21 on the tiny GPT-2
// (tools/oracle/adapters_fixtures.py peft), peft's file format both ways, gradients only to the
// prompt, counts of PEFT.md §4.3.
#include <cmath>
#include <cstdlib>
#include <iomanip>

#include "nn/adamw.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/prompt_tuning.h"
#include "support/hf_reference.h"
#include "support/temp_dir.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using petl::peft::PromptTuning;

namespace {
const std::string kDir = "tests/fixtures/peft/prompt_tuning/peft";

// The logits on the text rows that carry a token (the last T rows; padded ones excluded).
double text_logits_error(const Tensor& ours, const Tensor& theirs, const Tensor& mask) {
  const int64_t B = mask.size(0), T = mask.size(1), rows = ours.size(1), V = ours.size(2);
  REQUIRE(theirs.shape() == ours.shape());
  const std::vector<double> a = ours.to_vector(), b = theirs.to_vector(), m = mask.to_vector();
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t t = rows - T; t < rows; ++t) {
      if (m[size_t(i * T + t - (rows - T))] == 0.0) continue;
      for (int64_t v = 0; v < V; ++v) {
        const size_t k = size_t((i * rows + t) * V + v);
        diff = std::max(diff, std::fabs(a[k] - b[k]));
        scale = std::max(scale, std::fabs(b[k]));
      }
    }
  return diff / scale;
}
}  // namespace

TEST_CASE("prompt tuning parity (peft): logits, loss, the prompt's gradient, 10 AdamW steps, the saved table") {
  for (bool adamw : {false, true}) {
    auto model = load_gpt2("tests/fixtures/gpt2/model");
    model->train(false);
    const testing::HfReference ref = testing::load_reference(kDir);
    Generator gen(1);
    auto prompt = std::make_shared<PromptTuning>(3, 48, gen);
    kernel::copy_(prompt->embedding->weight, ref.tensors.at("init.embedding.weight"));
    SiteMap sites = model->sites();
    prompt->attach(sites, *model);
    const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask");
    const Tensor labels = prompt->extend_labels(ref.tensors.at("labels"));
    if (!adamw) {
      const Tensor logits = model->forward(ids, mask);  // [B, P + T, V]
      const double err = text_logits_error(logits, ref.tensors.at("logits"), mask);
      const Tensor loss = model->loss(logits, labels);
      const double want = ref.json.at("loss");
      MESSAGE("prompt: logits relative error " << err << ", loss " << std::setprecision(9) << loss.item() << " vs " << want);
      CHECK(err <= 1e-5);
      CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
      backward(loss);
      for (auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(!p.grad().defined());
      }
      testing::check_gradients_against(*prompt, ref, 1e-4);
      continue;
    }
    AdamW opt(prompt->trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
    double worst = 0.0;
    for (size_t step = 0; step < 10; ++step) {
      opt.zero_grad();
      const Tensor l = model->loss(model->forward(ids, mask), labels);
      const double w = ref.json.at("adamw_losses").at(step);
      INFO("step " << step << ": petl " << l.item() << ", peft " << w);
      CHECK(std::fabs(l.item() - w) <= 1e-5 * std::fabs(w));
      worst = std::max(worst, std::fabs(l.item() - w) / std::fabs(w));
      backward(l);
      opt.step();
    }
    const double table_err = testing::relative_error(prompt->embedding->weight, ref.tensors.at("trained"));
    MESSAGE("prompt: 10 AdamW steps, worst relative loss difference " << worst << "; trained table vs peft's saved "
                                                                       << table_err);
    CHECK(table_err <= 1e-4);
  }
}

TEST_CASE("prompt tuning: peft's saved adapter loads, and a petl-saved one reloads the same (and in peft, with "
          "PETL_ORACLE_PYTHON)") {
  auto loaded = PromptTuning::load_peft(kDir + "/peft_adapter", 48);
  const testing::HfReference ref = testing::load_reference(kDir);
  CHECK(loaded->embedding->weight.to_vector() == ref.tensors.at("trained").to_vector());
  testing::TempDir dir("petl-prompt");
  loaded->save_peft(dir.path() / "adapter", 2, 4);
  auto again = PromptTuning::load_peft(dir.path() / "adapter", 48);
  CHECK(again->embedding->weight.to_vector() == loaded->embedding->weight.to_vector());
  if (const char* python = std::getenv("PETL_ORACLE_PYTHON")) {
    auto model = load_gpt2("tests/fixtures/gpt2/model");
    model->train(false);
    SiteMap sites = model->sites();
    again->attach(sites, *model);
    NoGradGuard no_grad;
    const Tensor logits = model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"));
    save_safetensors(dir.path() / "logits.safetensors", {{"logits", logits}});
    const std::string cmd = std::string(python) + " tools/oracle/adapters_fixtures.py peft --check-dir " +
                            (dir.path() / "adapter").string() + " --logits " + (dir.path() / "logits.safetensors").string();
    CHECK(std::system(cmd.c_str()) == 0);
  } else {
    MESSAGE("the petl-written adapter was not loaded in peft: set PETL_ORACLE_PYTHON to the oracle venv's python to check it");
  }
  try {
    PromptTuning::load_peft(kDir + "/peft_adapter", 40);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("token_dim is 48, the model has 40") != std::string::npos);
  }
}

TEST_CASE("prompt tuning: P d trainable parameters (PEFT.md §4.3: P = 100 on GPT-2 small and medium)") {
  Generator gen(1);
  CHECK(PromptTuning(100, 768, gen).parameter_count(true) == 76800);
  CHECK(PromptTuning(100, 1024, gen).parameter_count(true) == 102400);
}

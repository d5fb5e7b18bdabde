// Prefix tuning on BART (peft/bart_prefix.h): the paper's three networks against AdapterHub's
// PrefixTuningConfig (encoder, self and cross prefixes), peft's decoder-self-only placement against
// Hugging Face peft 0.21 (flat and MLP-reparameterized), folding, peft's SEQ_2_SEQ_LM file both ways.
// Fixtures: tools/oracle/peft_bart_fixtures.py on the tiny BART (2 + 2 layers, d = 32, 4 heads), P = 3, k = 8.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>

#include "nn/adamw.h"
#include "nn/bart_checkpoint.h"
#include "peft/bart_prefix.h"
#include "support/peft_reference.h"
#include "support/temp_dir.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using petl::peft::BartPrefixOptions;
using petl::peft::BartPrefixPlacement;
using petl::peft::BartPrefixTuning;

namespace {

const std::string kBart = "tests/fixtures/bart/model";
const std::string kFixtures = "tests/fixtures/peft/prefix_tuning_bart";

struct Case {
  std::unique_ptr<BartForConditionalGeneration> model;
  std::shared_ptr<BartPrefixTuning> prefix;
  testing::HfReference ref;
  // the module whose parameter names are the fixture's ("init.<name>", "grad.<name>")
  nn::Module* named = nullptr;
};

// "adapterhub": the paper's placement; "peft_flat", "peft_projected": peft's.
Case load_case(const std::string& name) {
  Case c;
  c.model = load_bart(kBart);
  c.model->train(false);
  c.ref = testing::load_reference(kFixtures + "/" + name);
  const bool adapterhub = name == "adapterhub";
  BartPrefixOptions o;
  o.prefix.length = 3;
  o.prefix.projection = adapterhub || bool(c.ref.json.at("prefix_projection"));
  o.prefix.hidden = 8;
  o.placement = adapterhub ? BartPrefixPlacement::Paper : BartPrefixPlacement::Peft;
  Generator gen(1);
  c.prefix = std::make_shared<BartPrefixTuning>(c.model->config(), o, gen);
  c.named = adapterhub ? static_cast<nn::Module*>(c.prefix.get()) : c.prefix->self_prefix.get();
  testing::load_initial_parameters(*c.named, c.ref);
  c.prefix->attach(*c.model);
  return c;
}

Tensor logits_of(Case& c) {
  return c.model->forward(c.ref.tensors.at("input_ids"), c.ref.tensors.at("attention_mask"),
                          c.ref.tensors.at("decoder_input_ids"));
}

void check_parity(const std::string& name) {
  Case c = load_case(name);
  const Tensor logits = logits_of(c);
  const double err = testing::relative_error(logits, c.ref.tensors.at("logits"));
  testing::check_reference_parity(*c.model, *c.named, c.ref, logits, err, name, "reference");
}

void check_adamw(const std::string& name) {
  Case c = load_case(name);
  testing::check_reference_adamw(
      c.prefix->trainable_parameters(), c.ref, [&] { return c.model->loss(logits_of(c), c.ref.tensors.at("labels")); },
      name, "reference");
  NoGradGuard no_grad;
  const double after = testing::relative_error(logits_of(c), c.ref.tensors.at("logits_after"));
  MESSAGE(name << ": logits after the steps, relative error " << after);
  CHECK(after <= 1e-5);
  if (c.ref.tensors.count("saved")) {  // peft saves R: fold and compare
    const double fold_err = testing::relative_error(c.prefix->folded()->self_prefix->table(), c.ref.tensors.at("saved"));
    MESSAGE(name << ": folded table vs peft's prompt_embeddings, relative error " << fold_err);
    CHECK(fold_err <= 1e-5);
  }
}

}  // namespace

TEST_CASE("BART prefix parity (AdapterHub PrefixTuningConfig = the paper's encoder, self and cross networks): "
          "logits, loss, gradients of all 15 tensors") {
  check_parity("adapterhub");
}

TEST_CASE("BART prefix parity (peft SEQ_2_SEQ_LM, flat table): decoder self-attention only, slot 2i mod L, "
          "decoder positions shifted by P") {
  check_parity("peft_flat");
}

TEST_CASE("BART prefix parity (peft SEQ_2_SEQ_LM, MLP reparameterization)") { check_parity("peft_projected"); }

TEST_CASE("BART prefix parity: 10 AdamW steps give the references' losses, peft's saved table is our folded one") {
  check_adamw("adapterhub");
  check_adamw("peft_flat");
  check_adamw("peft_projected");
}

TEST_CASE("BART prefix: folding keeps the logits and leaves 3 tables (paper) or 1 (peft) of [P, 2Ld]") {
  for (const std::string name : {"adapterhub", "peft_projected"}) {
    INFO(name);
    Case c = load_case(name);
    NoGradGuard no_grad;
    const std::vector<double> before = logits_of(c).to_vector();
    auto flat = c.prefix->folded();
    c.prefix->detach();
    CHECK(c.model->model->decoder->embed.position_shift == 0);
    flat->attach(*c.model);
    CHECK(flat->parameter_count() == (name == "adapterhub" ? 3 : 1) * 3 * 2 * 2 * 32);
    CHECK(testing::max_abs_diff(logits_of(c).to_vector(), before) <= 1e-6);
  }
}

TEST_CASE("BART prefix: peft's saved directory gives peft's logits, ours reloads the same and loads in peft") {
  for (const std::string name : {"peft_flat", "peft_projected"}) {
    INFO(name);
    const testing::HfReference ref = testing::load_reference(kFixtures + "/" + name);
    auto model = load_bart(kBart);
    model->train(false);
    auto prefix = BartPrefixTuning::load_peft(kFixtures + "/" + name + "/peft_adapter", model->config());
    prefix->attach(*model);
    NoGradGuard no_grad;
    const Tensor logits = model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"),
                                         ref.tensors.at("decoder_input_ids"));
    const double err = testing::relative_error(logits, ref.tensors.at("logits_after"));
    MESSAGE(name << ": logits with peft's saved adapter, relative error " << err);
    CHECK(err <= 1e-5);

    testing::TempDir dir("petl-bart-prefix");
    prefix->save_peft(dir.path() / "adapter", kBart);
    auto again = BartPrefixTuning::load_peft(dir.path() / "adapter", model->config());
    CHECK(again->self_prefix->table().to_vector() == prefix->self_prefix->table().to_vector());
    if (const char* python = std::getenv("PETL_ORACLE_PYTHON")) {
      save_safetensors(dir.path() / "logits.safetensors", {{"logits", logits}});
      const std::string cmd = std::string(python) + " tools/oracle/peft_bart_fixtures.py peft --check-dir " +
                              (dir.path() / "adapter").string() + " --logits " +
                              (dir.path() / "logits.safetensors").string();
      CHECK(std::system(cmd.c_str()) == 0);
    } else {
      MESSAGE("the petl-written adapter was not loaded in peft: set PETL_ORACLE_PYTHON to the oracle venv's python to check it");
    }
  }
}

TEST_CASE("BART prefix: the paper's placement has no peft form, a GPT-2 file or wrong shape is a clear error") {
  auto model = load_bart(kBart);
  BartPrefixOptions o;
  o.prefix.length = 3;
  o.prefix.hidden = 8;
  Generator gen(2);
  BartPrefixTuning paper(model->config(), o, gen);
  testing::TempDir dir("petl-bart-prefix");
  CHECK_THROWS_WITH_AS(paper.save_peft(dir.path() / "a"), doctest::Contains("cannot hold"), Error);
  CHECK(!std::filesystem::exists(dir.path() / "a"));
  std::filesystem::create_directories(dir.path() / "b");
  std::ofstream(dir.path() / "b" / "adapter_config.json")
      << R"({"peft_type": "PREFIX_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": 3, "num_layers": 2, "token_dim": 32, "num_attention_heads": 4})";
  save_safetensors(dir.path() / "b" / "adapter_model.safetensors", {{"prompt_embeddings", zeros({3, 128})}});
  CHECK_THROWS_WITH_AS(BartPrefixTuning::load_peft(dir.path() / "b", model->config()),
                       doctest::Contains("task_type is \"CAUSAL_LM\", expected \"SEQ_2_SEQ_LM\""), Error);
  std::ofstream(dir.path() / "b" / "adapter_config.json")
      << R"({"peft_type": "PREFIX_TUNING", "task_type": "SEQ_2_SEQ_LM", "num_virtual_tokens": 3, "num_layers": 2, "token_dim": 32, "num_attention_heads": 4})";
  save_safetensors(dir.path() / "b" / "adapter_model.safetensors", {{"prompt_embeddings", zeros({3, 96})}});
  CHECK_THROWS_WITH_AS(BartPrefixTuning::load_peft(dir.path() / "b", model->config()),
                       doctest::Contains("prompt_embeddings is [3, 96], expected [3, 128]"), Error);
}

TEST_CASE("BART prefix: parameter counts of PEFT.md §3.6 (BART-large, P = 200: 14,745,600 saved for the 3 networks)") {
  BartConfig large;  // defaults are facebook/bart-large's dimensions
  BartPrefixOptions o;
  o.prefix.length = 200;
  o.prefix.hidden = 800;
  Generator gen(1);
  BartPrefixTuning paper(large, o, gen);
  const int64_t per_network_train = 200 * 1024 + (1024 * 800 + 800) + (800 * 2 * 12 * 1024 + 2 * 12 * 1024);
  CHECK(paper.parameter_count(true) == 3 * per_network_train);
  CHECK(paper.folded()->parameter_count() == 14745600);
  CHECK(paper.folded()->encoder_prefix->parameter_count() == 200 * 2 * 12 * 1024);
}

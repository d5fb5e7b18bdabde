// Prefix tuning (peft/prefix_tuning.h): parity with Hugging Face peft 0.21 on the tiny GPT-2
// (tools/oracle/adapters_fixtures.py peft), folding, peft's file format both ways, gradients only
// to the prefix, f64 gradcheck, trainable counts of PEFT.md §3.6.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>

#include "autograd/gradcheck.h"
#include "nn/adamw.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/prefix_tuning.h"
#include "support/peft_reference.h"
#include "support/temp_dir.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using petl::peft::PrefixTuning;
using petl::peft::PrefixTuningOptions;

namespace {

const std::string kGpt2 = "tests/fixtures/gpt2";
const std::string kFixtures = "tests/fixtures/peft/prefix_tuning";

// The tiny GPT-2 with a prefix holding the oracle's initial parameters.
struct Case {
  std::unique_ptr<Gpt2LMHead> model;
  std::shared_ptr<PrefixTuning> prefix;
  testing::HfReference ref;
  SiteMap sites;
};

Case load_case(const std::string& name) {
  Case c;
  c.model = load_gpt2(kGpt2 + "/model");
  c.model->train(false);
  c.ref = testing::load_reference(kFixtures + "/" + name);
  const bool projection = c.ref.json.at("prefix_projection");
  PrefixTuningOptions o;
  o.length = c.ref.json.at("num_virtual_tokens");
  o.projection = projection;
  o.hidden = c.ref.json.at("encoder_hidden_size");
  Generator gen(1);
  const Gpt2Config& cfg = c.model->transformer->config;
  c.prefix = std::make_shared<PrefixTuning>(cfg.n_layer, cfg.n_head, cfg.n_embd, o, gen);
  for (auto& [pname, p] : c.prefix->named_parameters()) {
    INFO(pname);
    auto it = c.ref.tensors.find("init." + pname);
    REQUIRE(it != c.ref.tensors.end());
    REQUIRE(it->second.shape() == p.shape());
    kernel::copy_(p, it->second);
  }
  c.sites = c.model->sites();
  c.prefix->attach(c.sites, *c.model);
  return c;
}

Tensor logits_of(Case& c) {
  const Tensor ids = c.ref.tensors.at("input_ids");
  // peft passes the prefix as a past of length P: the tokens sit at positions P .. P+T-1
  return c.model->forward(ids, c.ref.tensors.at("attention_mask"), c.prefix->positions(ids.size(0), ids.size(1)));
}

// Logits compared on the real tokens only (padded rows' logits are not defined by either side's loss).
double logits_error(const Tensor& ours, const Tensor& theirs, const Tensor& mask) {
  const int64_t B = ours.size(0), T = ours.size(1), V = ours.size(2);
  const std::vector<double> a = ours.to_vector(), b = theirs.to_vector(), m = mask.to_vector();
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < B * T; ++i) {
    if (m[size_t(i)] == 0.0) continue;
    for (int64_t v = 0; v < V; ++v) {
      diff = std::max(diff, std::fabs(a[size_t(i * V + v)] - b[size_t(i * V + v)]));
      scale = std::max(scale, std::fabs(b[size_t(i * V + v)]));
    }
  }
  return diff / scale;
}

void check_parity(const std::string& name) {
  Case c = load_case(name);
  const Tensor logits = logits_of(c);
  const double err = logits_error(logits, c.ref.tensors.at("logits"), c.ref.tensors.at("attention_mask"));
  testing::check_reference_parity(*c.model, *c.prefix, c.ref, logits, err, name, "peft");
}

void check_adamw(const std::string& name) {
  Case c = load_case(name);
  testing::check_reference_adamw(
      c.prefix->trainable_parameters(), c.ref, [&] { return c.model->loss(logits_of(c), c.ref.tensors.at("labels")); },
      name, "peft");
  // what peft saves after training is R (the MLP's output when projecting): fold and compare
  const Tensor folded = c.prefix->folded()->table();
  const double fold_err = testing::relative_error(folded, c.ref.tensors.at("folded"));
  MESSAGE(name << ": folded table vs peft's prompt_embeddings, relative error " << fold_err);
  CHECK(fold_err <= 1e-4);
}

}  // namespace

TEST_CASE("prefix tuning parity (peft, flat table): logits, loss, gradient of the table") { check_parity("flat"); }

TEST_CASE("prefix tuning parity (peft, MLP reparameterization): logits, loss, gradients of E, W1, b1, W2, b2") {
  check_parity("projected");
}

TEST_CASE("prefix tuning parity: 10 AdamW steps give peft's losses, and the folded table peft's saved one") {
  check_adamw("flat");
  check_adamw("projected");
}

TEST_CASE("prefix tuning: folding keeps the logits exactly and leaves only R [P, 2Ld]") {
  Case c = load_case("projected");
  NoGradGuard no_grad;
  const std::vector<double> before = logits_of(c).to_vector();
  auto flat = c.prefix->folded();
  c.prefix->detach();
  flat->attach(c.sites, *c.model);
  CHECK(flat->parameter_count() == 3 * 2 * 2 * 48);
  CHECK(!flat->projection);
  const Tensor ids = c.ref.tensors.at("input_ids");
  const Tensor after = c.model->forward(ids, c.ref.tensors.at("attention_mask"), flat->positions(ids.size(0), ids.size(1)));
  CHECK(testing::max_abs_diff(after.to_vector(), before) <= 1e-6);
}

TEST_CASE("prefix tuning: peft's saved adapter loads and gives peft's logits, and a petl-saved one reloads the same") {
  for (const std::string name : {"flat", "projected"}) {
    INFO(name);
    const testing::HfReference ref = testing::load_reference(kFixtures + "/" + name);
    auto model = load_gpt2(kGpt2 + "/model");
    model->train(false);
    const Gpt2Config& cfg = model->transformer->config;
    auto prefix = PrefixTuning::load_peft(kFixtures + "/" + name + "/peft_adapter", cfg.n_layer, cfg.n_head, cfg.n_embd);
    SiteMap sites = model->sites();
    prefix->attach(sites, *model);
    const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask");
    NoGradGuard no_grad;
    const Tensor logits = model->forward(ids, mask, prefix->positions(ids.size(0), ids.size(1)));
    const double err = logits_error(logits, ref.tensors.at("logits_after"), mask);
    MESSAGE(name << ": logits with peft's saved adapter, relative error " << err);
    CHECK(err <= 1e-5);

    testing::TempDir dir("petl-prefix");
    prefix->save_peft(dir.path() / "adapter");
    auto again = PrefixTuning::load_peft(dir.path() / "adapter", cfg.n_layer, cfg.n_head, cfg.n_embd);
    CHECK(again->table().to_vector() == prefix->table().to_vector());
    // the petl-written directory in peft (the oracle), when PETL_ORACLE_PYTHON names its interpreter
    if (const char* python = std::getenv("PETL_ORACLE_PYTHON")) {
      save_safetensors(dir.path() / "logits.safetensors", {{"logits", logits}});
      const std::string cmd = std::string(python) + " tools/oracle/adapters_fixtures.py peft --check-dir " +
                              (dir.path() / "adapter").string() + " --logits " + (dir.path() / "logits.safetensors").string();
      CHECK(std::system(cmd.c_str()) == 0);
    } else {
      MESSAGE("the petl-written adapter was not loaded in peft: set PETL_ORACLE_PYTHON to the oracle venv's python to check it");
    }
  }
}

TEST_CASE("prefix tuning: peft files with the wrong shape or type are clear errors") {
  testing::TempDir dir("petl-prefix");
  auto write = [&](const std::string& config, const Tensor& R) {
    std::filesystem::create_directories(dir.path() / "a");
    std::ofstream(dir.path() / "a" / "adapter_config.json") << config;
    save_safetensors(dir.path() / "a" / "adapter_model.safetensors", {{"prompt_embeddings", R}});
  };
  auto error_of = [&]() -> std::string {
    try {
      PrefixTuning::load_peft(dir.path() / "a", 2, 4, 48);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string good = R"({"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 3, "num_layers": 2, "token_dim": 48, "num_attention_heads": 4})";
  write(good, zeros({3, 192}));
  CHECK(error_of().empty());
  write(good, zeros({3, 190}));
  CHECK(error_of().find("prompt_embeddings is [3, 190], expected [3, 192]") != std::string::npos);
  write(R"({"peft_type": "LORA", "num_virtual_tokens": 3, "num_layers": 2, "token_dim": 48, "num_attention_heads": 4})",
        zeros({3, 192}));
  CHECK(error_of().find("peft_type") != std::string::npos);
  write(R"({"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 3, "num_layers": 3, "token_dim": 48, "num_attention_heads": 4})",
        zeros({3, 192}));
  CHECK(error_of().find("num_layers is 3, the model has 2") != std::string::npos);
  write(R"({"peft_type": "PREFIX_TUNING", "num_layers": 2, "token_dim": 48, "num_attention_heads": 4})", zeros({3, 192}));
  CHECK(error_of().find("missing field 'num_virtual_tokens'") != std::string::npos);
}

TEST_CASE("prefix tuning: a frozen base costs no weight-gradient GEMM") {
  // Frozen base (2 blocks): input-gradient GEMMs only where a prefix lies upstream -- the head (1),
  // block 1's c_proj, c_fc, attn.c_proj, c_attn (4), block 0's c_proj, c_fc, attn.c_proj (3; block 0's
  // c_attn input comes from frozen embeddings, so its input gradient is not computed) -- plus the
  // prefix MLP (W2: dW and dx; W1: dW and dx to E) = 12. A trainable base adds one weight-gradient
  // GEMM per Linear and the tied head (9) and block 0's c_attn input gradient (1).
  auto count_backward = [](bool freeze) {
    Case c = load_case("projected");
    if (!freeze) c.model->set_trainable(true);
    const Tensor loss = c.model->loss(logits_of(c), c.ref.tensors.at("labels"));
    const int64_t before = kernel_counters().matmul_calls;
    backward(loss);
    return kernel_counters().matmul_calls - before;
  };
  const int64_t frozen = count_backward(true), full = count_backward(false);
  MESSAGE("backward matmuls: frozen base " << frozen << ", trainable base " << full);
  CHECK(frozen == 1 + 4 + 3 + 4);
  CHECK(full == frozen + 2 * 4 + 1 + 1);
}

TEST_CASE("prefix tuning: f64 gradcheck of R = tanh(E W1 + b1) W2 + b2 through one layer's rows") {
  Generator gen(3);
  PrefixTuningOptions o;
  o.length = 2;
  o.hidden = 3;
  PrefixTuning prefix(2, 2, 4, o, gen);
  auto leaf = [](const Tensor& t) {
    Tensor x = kernel::to(t, DType::F64);
    x.set_requires_grad(true);
    return x;
  };
  std::vector<Tensor> inputs{leaf(prefix.embedding->weight), leaf(prefix.transform0->weight),
                             leaf(prefix.transform0->bias), leaf(prefix.transform2->weight),
                             leaf(prefix.transform2->bias)};
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& in) {
        prefix.embedding->weight = in[0];
        prefix.transform0->weight = in[1];
        prefix.transform0->bias = in[2];
        prefix.transform2->weight = in[3];
        prefix.transform2->bias = in[4];
        const KeyValueRows rows = prefix.layer_rows(prefix.table(), 1);
        return concat({rows.k, rows.v * 2.0}, 2);
      },
      inputs);
  INFO(r.report);
  CHECK(r.ok);
  CHECK(r.checked == 2 * 4 + 3 * 4 + 3 + 16 * 3 + 16);
}

TEST_CASE("prefix tuning: trainable and saved parameter counts of PEFT.md §3.6 (GPT-2 small and medium)") {
  auto counts = [](int64_t L, int64_t H, int64_t d, int64_t P, int64_t k) {
    Generator gen(1);
    PrefixTuningOptions o;
    o.length = P;
    o.hidden = k;
    PrefixTuning train_time(L, H, d, o, gen);
    return std::make_pair(train_time.parameter_count(true), train_time.folded()->parameter_count());
  };
  CHECK(counts(12, 12, 768, 5, 512) == std::make_pair(int64_t(9853184), int64_t(92160)));
  CHECK(counts(24, 16, 1024, 5, 512) == std::make_pair(int64_t(25744896), int64_t(245760)));
  CHECK(counts(12, 12, 768, 30, 800).first == 15402272);
  CHECK(counts(24, 16, 1024, 30, 800).first == 40221472);
  CHECK(counts(24, 16, 1024, 10, 512).second == 491520);
}

TEST_CASE("prefix tuning parity (AdapterHub PrefixTuningConfig, positions not shifted): logits, loss, gradients, "
          "10 AdamW steps") {
  // AdapterHub injects the prefix inside attention: GPT-2's positions stay 0 .. T-1 (PEFT.md §3.4)
  auto model = load_gpt2(kGpt2 + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(kFixtures + "/adapterhub");
  PrefixTuningOptions o;
  o.length = 3;
  o.hidden = 8;
  Generator gen(1);
  auto prefix = std::make_shared<PrefixTuning>(2, 4, 48, o, gen);
  for (auto& [pname, p] : prefix->named_parameters()) {
    INFO(pname);
    REQUIRE(ref.tensors.count("init." + pname) == 1);
    kernel::copy_(p, ref.tensors.at("init." + pname));
  }
  SiteMap sites = model->sites();
  prefix->attach(sites, *model);
  const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask"), labels = ref.tensors.at("labels");
  const Tensor logits = model->forward(ids, mask);
  const double err = logits_error(logits, ref.tensors.at("logits"), mask);
  const Tensor loss = model->loss(logits, labels);
  const double want = ref.json.at("loss");
  MESSAGE("adapterhub prefix: logits relative error " << err << ", loss " << std::setprecision(9) << loss.item()
                                                      << " vs " << want);
  CHECK(err <= 1e-5);
  CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
  backward(loss);
  testing::check_gradients_against(*prefix, ref, 1e-4);
  prefix->zero_grad();

  AdamW opt(prefix->trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
  double worst = 0.0;
  for (size_t step = 0; step < 10; ++step) {
    opt.zero_grad();
    const Tensor l = model->loss(model->forward(ids, mask), labels);
    const double w = ref.json.at("adamw_losses").at(step);
    INFO("step " << step);
    CHECK(std::fabs(l.item() - w) <= 1e-5 * std::fabs(w));
    worst = std::max(worst, std::fabs(l.item() - w) / std::fabs(w));
    backward(l);
    opt.step();
  }
  MESSAGE("adapterhub prefix: 10 AdamW steps, worst relative loss difference " << worst);
}

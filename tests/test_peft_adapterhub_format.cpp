// AdapterHub's save_adapter directory (peft/adapterhub_format.h) both ways: directories adapters 1.3
// wrote (tools/oracle/adapterhub_format_fixtures.py) load in petl and give adapters' logits; directories
// petl writes reload in petl to the same logits and, when PETL_ORACLE_ADAPTERS_PYTHON names the adapters
// venv's python, load in adapters with petl's logits. Bad files are errors naming file and key.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "nn/bart_checkpoint.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/adapterhub_format.h"
#include "support/hf_reference.h"
#include "support/temp_dir.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

const std::string kDir = "tests/fixtures/peft/adapterhub_format";

struct Batch {
  Tensor ids, mask, decoder_ids;
};

Batch batch(bool bart) {
  const TensorMap ref = load_safetensors(bart ? "tests/fixtures/bart/reference.safetensors"
                                              : "tests/fixtures/gpt2/reference.safetensors");
  return {ref.at("input_ids"), ref.at("attention_mask"), bart ? ref.at("decoder_input_ids") : Tensor()};
}

Tensor logits_of(Module& model, const Batch& b) {
  NoGradGuard no_grad;
  if (auto* bart = dynamic_cast<BartForConditionalGeneration*>(&model)) return bart->forward(b.ids, b.mask, b.decoder_ids);
  return dynamic_cast<Gpt2LMHead&>(model).forward(b.ids, b.mask);
}

// max |a - b| / max |b| over the rows that carry a token (GPT-2's padded rows are nobody's reference),
// on the first `vocab` logits of each row.
double error_on_tokens(const Tensor& ours, const Tensor& theirs, const Tensor& mask, int64_t vocab) {
  const int64_t B = ours.size(0), T = ours.size(1), V = ours.size(2), W = theirs.size(2);
  const std::vector<double> a = ours.to_vector(), b = theirs.to_vector();
  const std::vector<double> m = mask.defined() ? mask.to_vector() : std::vector<double>(size_t(B * T), 1.0);
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < B * T; ++i) {
    if (m[size_t(i)] == 0.0) continue;
    for (int64_t v = 0; v < vocab; ++v) {
      diff = std::max(diff, std::fabs(a[size_t(i * V + v)] - b[size_t(i * W + v)]));
      scale = std::max(scale, std::fabs(b[size_t(i * W + v)]));
    }
  }
  return diff / scale;
}

// Every trainable parameter of `method` ~ N(0, 0.2^2) (learned scalings 1.5), so no product is zero.
void randomize(const Module& method, uint64_t seed) {
  Generator gen(seed);
  for (const auto& [name, p] : method.named_parameters()) {
    if (name.ends_with("scaling")) kernel::copy_(p, full(p.shape(), 1.5));
    else kernel::copy_(p, randn(p.shape(), DType::F32, Device::cpu(), gen) * 0.2);
  }
}

// Writes `method` (already attached to `model`), reloads the directory onto a fresh model: equal logits;
// then adapters loads it (optional oracle).
template <class Method, class Model>
void round_trip(const std::string& label, const Method& method, Model& model, std::unique_ptr<Model> fresh, bool bart) {
  INFO(label);
  const Batch b = batch(bart);
  const Tensor ours = logits_of(model, b);
  testing::TempDir dir("petl-adapterhub");
  const AdapterHubModel info = adapterhub_model(model, bart ? "tests/fixtures/bart/model" : "tests/fixtures/gpt2/model");
  save_adapterhub(method, dir.path() / "adapter", info, "petl");
  CHECK(std::filesystem::exists(dir.path() / "adapter" / "adapter.safetensors"));
  const LoadedAdapterHub loaded = load_adapterhub(*fresh, dir.path() / "adapter");
  CHECK(loaded.name == "petl");
  CHECK(loaded.method->parameter_count() == method.parameter_count());
  const Tensor again = logits_of(*fresh, b);
  CHECK(testing::max_abs_diff(again.to_vector(), ours.to_vector()) == 0.0);
  if (const char* python = std::getenv("PETL_ORACLE_ADAPTERS_PYTHON")) {
    save_safetensors(dir.path() / "logits.safetensors", {{"logits", ours}});
    const std::string cmd = std::string(python) + " tools/oracle/adapterhub_format_fixtures.py --check-dir " +
                            (dir.path() / "adapter").string() + " --logits " + (dir.path() / "logits.safetensors").string();
    CHECK(std::system(cmd.c_str()) == 0);
  } else {
    MESSAGE(label << ": not loaded in adapters: set PETL_ORACLE_ADAPTERS_PYTHON to the adapters venv's python to check it");
  }
}

}  // namespace

TEST_CASE("AdapterHub directories written by adapters 1.3 (bottleneck, parallel, prefix, MAM) load in petl and give "
          "adapters' logits") {
  // *_prefix and gpt2_mam: adapters 1.3 writes these only as a pickle; the oracle converted it (tensors as
  // adapters saved them, each once under the pool's key)
  for (const std::string name : {"gpt2_seq_bn", "gpt2_double_seq_bn", "gpt2_par_bn", "gpt2_scaled_par_bn",
                                 "gpt2_prefix", "gpt2_mam", "bart_seq_bn", "bart_seq_bn_cross", "bart_double_seq_bn", "bart_par_bn",
                                 "bart_prefix", "bart_prefix_flat"}) {
    INFO(name);
    const bool bart = name.starts_with("bart");
    const Tensor want = load_safetensors(kDir + "/" + name + "/reference.safetensors").at("logits_head");
    const Batch b = batch(bart);
    std::unique_ptr<Module> model;
    LoadedAdapterHub loaded;
    if (bart) {
      auto m = load_bart("tests/fixtures/bart/model");
      loaded = load_adapterhub(*m, kDir + "/" + name + "/adapter");
      model = std::move(m);
    } else {
      auto m = load_gpt2("tests/fixtures/gpt2/model");
      loaded = load_adapterhub(*m, kDir + "/" + name + "/adapter");
      model = std::move(m);
    }
    model->train(false);
    CHECK(loaded.name == "a");
    const double err = error_on_tokens(logits_of(*model, b), want, bart ? Tensor() : b.mask, want.size(2));
    MESSAGE(name << ": logits vs adapters', relative error " << err);
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("AdapterHub directories written by petl: Houlsby (DoubleSeqBn), Pfeiffer (SeqBn), ParBn, scaled ParBn, "
          "prefix (projected and folded), MAM on GPT-2") {
  auto gpt2 = [] {
    auto m = load_gpt2("tests/fixtures/gpt2/model");
    m->train(false);
    return m;
  };
  {
    auto model = gpt2();
    SiteMap sites = model->sites();
    BottleneckAdapters a(48, adapterhub_double_seq_bn(4), 1);
    a.attach(sites, *model);
    randomize(a, 21);
    round_trip("gpt2 DoubleSeqBn", a, *model, gpt2(), false);
  }
  {
    auto model = gpt2();
    SiteMap sites = model->sites();
    BottleneckAdapters a(48, pfeiffer(4), 1);
    a.attach(sites, *model);
    randomize(a, 22);
    round_trip("gpt2 SeqBn", a, *model, gpt2(), false);
  }
  for (bool learned : {false, true}) {
    auto model = gpt2();
    SiteMap sites = model->sites();
    ParallelAdapters a(48, adapterhub_par_bn(4, learned), 1);
    a.attach(sites, *model);
    randomize(a, 23);
    round_trip(learned ? "gpt2 scaled ParBn" : "gpt2 ParBn", a, *model, gpt2(), false);
  }
  for (bool fold : {false, true}) {
    auto model = gpt2();
    SiteMap sites = model->sites();
    Generator gen(3);
    auto prefix = std::make_shared<PrefixTuning>(2, 4, 48, PrefixTuningOptions{3, true, 8}, gen);
    randomize(*prefix, 24);
    if (fold) prefix = prefix->folded();
    prefix->attach(sites, *model);
    round_trip(fold ? "gpt2 prefix (folded: flat)" : "gpt2 prefix", *prefix, *model, gpt2(), false);
  }
  {
    auto model = gpt2();
    SiteMap sites = model->sites();
    MamOptions o{PrefixTuningOptions{3, true, 8}, adapterhub_par_bn(4)};
    Mam mam(2, 4, 48, o, 5);
    mam.attach(sites, *model);
    randomize(mam, 25);
    round_trip("gpt2 MAM", mam, *model, gpt2(), false);
  }
}

TEST_CASE("AdapterHub directories written by petl on BART: SeqBn (reads LN_fin(r + h)), DoubleSeqBn, ParBn, "
          "prefix (encoder, self and cross networks)") {
  auto bart = [] {
    auto m = load_bart("tests/fixtures/bart/model");
    m->train(false);
    return m;
  };
  {
    auto model = bart();
    SiteMap sites = model->sites();
    BottleneckAdapters a(32, pfeiffer(4), 1);
    a.attach(sites, *model);
    randomize(a, 31);
    round_trip("bart SeqBn", a, *model, bart(), true);
  }
  {
    auto model = bart();
    SiteMap sites = model->sites();
    BottleneckOptions o = adapterhub_double_seq_bn(4);
    o.sites = {"self_attn", "ffn"};
    BottleneckAdapters a(32, o, 1);
    a.attach(sites, *model);
    randomize(a, 32);
    round_trip("bart DoubleSeqBn", a, *model, bart(), true);
  }
  {
    auto model = bart();
    SiteMap sites = model->sites();
    ParallelOptions o = adapterhub_par_bn(4);
    o.sites = {"ffn"};
    o.input = ParallelInput::SublayerIn;  // BART's sublayer input is its residual stream
    ParallelAdapters a(32, o, 1);
    a.attach(sites, *model);
    randomize(a, 33);
    round_trip("bart ParBn", a, *model, bart(), true);
  }
  for (bool fold : {false, true}) {
    auto model = bart();
    Generator gen(4);
    auto prefix = std::make_shared<BartPrefixTuning>(model->config(), BartPrefixOptions{{3, true, 8}}, gen);
    randomize(*prefix, 34);
    if (fold) prefix = prefix->folded();
    prefix->attach(*model);
    round_trip(fold ? "bart prefix (folded)" : "bart prefix", *prefix, *model, bart(), true);
  }
}

TEST_CASE("AdapterHub format: wrong or unsupported files are errors naming the file and the key") {
  testing::TempDir dir("petl-adapterhub");
  const std::filesystem::path a = dir.path() / "a";
  std::filesystem::create_directories(a);
  for (const auto& entry : std::filesystem::directory_iterator(kDir + "/gpt2_seq_bn/adapter"))
    std::filesystem::copy_file(entry.path(), a / entry.path().filename());
  const std::string config = [&] {
    std::ifstream in(a / "adapter_config.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto error_of = [&](auto&& load) -> std::string {
    try {
      load();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  auto gpt2_load = [&] {
    auto model = load_gpt2("tests/fixtures/gpt2/model");
    load_adapterhub(*model, a);
  };
  CHECK(error_of(gpt2_load).empty());
  // a BART directory onto GPT-2
  auto bart_load = [&] {
    auto model = load_bart("tests/fixtures/bart/model");
    load_adapterhub(*model, a);
  };
  CHECK(error_of(bart_load).find("model_type is \"gpt2\", the model is \"bart\"") != std::string::npos);
  // a feature petl does not implement
  auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string c = config;
    const size_t at = c.find(from);
    REQUIRE(at != std::string::npos);
    c.replace(at, from.size(), to);
    std::ofstream(a / "adapter_config.json") << c;
  };
  rewrite("\"phm_layer\": false", "\"phm_layer\": true");
  std::string e = error_of(gpt2_load);
  CHECK(e.find("adapter_config.json: config field 'phm_layer' is true") != std::string::npos);
  rewrite("\"reduction_factor\": 12", "\"reduction_factor\": 6");
  e = error_of(gpt2_load);
  CHECK(e.find("adapter.safetensors: tensor 'transformer.h.0.output_adapters.adapters.a.adapter_down.0.weight' is "
               "[4, 48], expected [8, 48]") != std::string::npos);
  rewrite("\"mh_adapter\": false", "\"mh_adapter\": true");
  e = error_of(gpt2_load);
  CHECK(e.find("tensor 'transformer.h.0.attention_adapters.adapters.a.adapter_down.0.weight' missing") != std::string::npos);
  rewrite("\"name\": \"a\"", "\"name\": \"b\"");
  e = error_of(gpt2_load);
  CHECK(e.find("adapters.b.adapter_down.0.weight' missing") != std::string::npos);
  // the torch pickle only
  std::ofstream(a / "adapter_config.json") << config;
  std::filesystem::rename(a / "adapter.safetensors", a / "pytorch_adapter.bin");
  e = error_of(gpt2_load);
  CHECK(e.find("pytorch_adapter.bin: a torch pickle") != std::string::npos);
  // an extra tensor the config does not describe
  std::filesystem::remove(a / "pytorch_adapter.bin");
  TensorMap t = load_safetensors(kDir + "/gpt2_seq_bn/adapter/adapter.safetensors");
  t["transformer.h.0.attention_adapters.adapters.a.adapter_up.bias"] = zeros({48});
  save_safetensors(a / "adapter.safetensors", t);
  e = error_of(gpt2_load);
  CHECK(e.find("tensor 'transformer.h.0.attention_adapters.adapters.a.adapter_up.bias' belongs to no part") !=
        std::string::npos);
  // peft's BART placement has no AdapterHub form
  auto model = load_bart("tests/fixtures/bart/model");
  Generator gen(1);
  BartPrefixTuning peft_placement(model->config(), BartPrefixOptions{{3, false, 8}, BartPrefixPlacement::Peft}, gen);
  e = error_of([&] { save_adapterhub(peft_placement, dir.path() / "p", adapterhub_model(*model), "x"); });
  CHECK(e.find("no AdapterHub form") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.path() / "p"));
}

// MAM adapter (peft/mam.h): parity with AdapterHub adapters 1.3 MAMConfig (prefix P = 3, k = 8 +
// ParBn r = 4, s = 4) on the tiny GPT-2 (tools/oracle/adapters_fixtures.py adapters), and the
// parameter counts of PEFT.md §9.3.
#include <cmath>
#include <iomanip>

#include "nn/adamw.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/mam.h"
#include "support/gpt2_site_names.h"
#include "support/hf_reference.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

TEST_CASE("mam parity (AdapterHub MAMConfig): logits, loss, every gradient, 10 AdamW steps") {
  auto run = [](bool adamw) {
    auto model = load_gpt2("tests/fixtures/gpt2/model");
    model->train(false);
    const testing::HfReference ref = testing::load_reference("tests/fixtures/peft/mam/adapterhub");
    MamOptions o;
    o.prefix = PrefixTuningOptions{3, true, 8};
    o.adapter = adapterhub_par_bn(4);
    Mam mam(2, 4, 48, o, 1);
    SiteMap sites = model->sites();
    mam.attach(sites, *model);
    int64_t loaded = 0, in_file = 0;
    for (auto& [pname, p] : mam.named_parameters()) {
      INFO(pname);
      REQUIRE(ref.tensors.count("init." + pname) == 1);
      kernel::copy_(p, ref.tensors.at("init." + pname));
      ++loaded;
    }
    for (auto& [key, t] : ref.tensors) in_file += key.starts_with("init.");
    CHECK(loaded == in_file);
    const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask"),
                 labels = ref.tensors.at("labels");
    if (!adamw) {
      const Tensor logits = model->forward(ids, mask);
      // compare on the real tokens (padded rows' logits carry no loss)
      const std::vector<double> a = logits.to_vector(), b = ref.tensors.at("logits").to_vector(), m = mask.to_vector();
      const int64_t V = logits.size(2);
      double diff = 0.0, scale = 0.0;
      for (size_t i = 0; i < m.size(); ++i)
        if (m[i] != 0.0)
          for (int64_t v = 0; v < V; ++v) {
            diff = std::max(diff, std::fabs(a[i * size_t(V) + size_t(v)] - b[i * size_t(V) + size_t(v)]));
            scale = std::max(scale, std::fabs(b[i * size_t(V) + size_t(v)]));
          }
      const Tensor loss = model->loss(logits, labels);
      const double want = ref.json.at("loss");
      MESSAGE("mam: logits relative error " << diff / scale << ", loss " << std::setprecision(9) << loss.item()
                                            << " vs " << want);
      CHECK(diff / scale <= 1e-5);
      CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
      backward(loss);
      for (auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(!p.grad().defined());
      }
      testing::check_gradients_against(mam, ref, 1e-4);
      return;
    }
    AdamW opt(mam.trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
    double worst = 0.0;
    for (size_t step = 0; step < 10; ++step) {
      opt.zero_grad();
      const Tensor l = model->loss(model->forward(ids, mask), labels);
      const double w = ref.json.at("adamw_losses").at(step);
      INFO("step " << step << ": petl " << l.item() << ", adapters " << w);
      CHECK(std::fabs(l.item() - w) <= 1e-5 * std::fabs(w));
      worst = std::max(worst, std::fabs(l.item() - w) / std::fabs(w));
      backward(l);
      opt.step();
    }
    MESSAGE("mam: 10 AdamW steps, worst relative loss difference " << worst);
  };
  run(false);
  run(true);
}

TEST_CASE("mam: saved and train-time parameter counts of PEFT.md §9.3 (GPT-2 small and medium)") {
  auto counts = [](int64_t L, int64_t H, int64_t d) {
    auto sites = testing::gpt2_site_names(L);
    Module base;
    Mam mam(L, H, d, MamOptions{}, 1);
    mam.attach(sites->map, base);
    const int64_t saved = mam.prefix->folded()->parameter_count() + mam.adapters->parameter_count();
    return std::make_pair(saved, mam.prefix->parameter_count());
  };
  CHECK(counts(12, 12, 768) == std::make_pair(int64_t(10005504), int64_t(15402272)));
  CHECK(counts(24, 16, 1024) == std::make_pair(int64_t(26677248), int64_t(40221472)));
}

// Sequential bottleneck adapters (peft/bottleneck_adapter.h): parity with AdapterHub adapters 1.3
// (SeqBnConfig "Pfeiffer", DoubleSeqBnConfig "Houlsby") on the tiny GPT-2
// (tools/oracle/adapters_fixtures.py adapters), identity at a zero up-projection, gradients only to
// the adapters (and the LayerNorms for the paper's Houlsby), f64 gradcheck, PEFT.md §2.4/§2.7 counts.
#include <cmath>
#include <iomanip>

#include "autograd/gradcheck.h"
#include "nn/adamw.h"
#include "nn/bart_checkpoint.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/bottleneck_adapter.h"
#include "support/gpt2_site_names.h"
#include "support/peft_reference.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

const std::string kGpt2 = "tests/fixtures/gpt2";
const std::string kFixtures = "tests/fixtures/peft/bottleneck_adapter";

struct Case {
  std::unique_ptr<Gpt2LMHead> model;
  std::shared_ptr<BottleneckAdapters> adapters;
  testing::HfReference ref;
};

// AdapterHub's configs at reduction_factor 12 on d = 48: m = 4.
BottleneckOptions options_of(const std::string& name) {
  return name == "pfeiffer" ? pfeiffer(4) : adapterhub_double_seq_bn(4);
}

Case load_case(const std::string& name) {
  Case c;
  c.model = load_gpt2(kGpt2 + "/model");
  c.model->train(false);
  c.ref = testing::load_reference(kFixtures + "/" + name);
  c.adapters = std::make_shared<BottleneckAdapters>(48, options_of(name), 1);
  SiteMap sites = c.model->sites();
  c.adapters->attach(sites, *c.model);
  testing::load_initial_parameters(*c.adapters, c.ref);  // the same adapters in the same places
  return c;
}

void check_parity(const std::string& name) { testing::check_reference_case(load_case, name, "adapters"); }

}  // namespace

TEST_CASE("bottleneck adapter parity (AdapterHub SeqBn, Pfeiffer): logits, loss, gradients, 10 AdamW steps") {
  check_parity("pfeiffer");
}

TEST_CASE("bottleneck adapter parity (AdapterHub DoubleSeqBn, Houlsby): logits, loss, gradients, 10 AdamW steps") {
  check_parity("houlsby");
}

TEST_CASE("bottleneck adapter: with a zero up-projection the logits are exactly the base model's") {
  auto model = load_gpt2(kGpt2 + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(kGpt2);
  const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask");
  const std::vector<double> base = model->forward(ids, mask).to_vector();
  for (BottleneckOptions o : {houlsby(4), pfeiffer(4)}) {
    o.init = AdapterInit::ZeroUp;
    BottleneckAdapters adapters(48, o, 2);
    SiteMap sites = model->sites();
    adapters.attach(sites, *model);
    CHECK(model->forward(ids, mask).to_vector() == base);
    adapters.detach();
  }
}

TEST_CASE("bottleneck adapter: the paper's Houlsby trains adapters and every LayerNorm, nothing else, "
          "the frozen weights cost no weight-gradient GEMM") {
  auto count = [](bool adapters_on) {
    auto model = load_gpt2(kGpt2 + "/model");
    model->train(false);
    const testing::HfReference ref = testing::load_reference(kGpt2);
    BottleneckAdapters adapters(48, houlsby(4), 3);
    SiteMap sites = model->sites();
    adapters.attach(sites, *model);
    if (!adapters_on) model->set_trainable(true);
    const Tensor loss = model->loss(model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask")),
                                    ref.tensors.at("labels"));
    const int64_t before = kernel_counters().matmul_calls;
    backward(loss);
    const int64_t gemms = kernel_counters().matmul_calls - before;
    if (adapters_on) {
      for (auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(p.grad().defined() == is_layer_norm_parameter(name));
      }
      for (auto& [name, p] : adapters.named_parameters()) {
        INFO(name);
        CHECK(p.grad().defined());
      }
    }
    return gemms;
  };
  const int64_t frozen = count(true), full = count(false);
  MESSAGE("backward matmuls: frozen base " << frozen << ", trainable base " << full);
  CHECK(full - frozen == 2 * 4 + 1);  // one weight-gradient GEMM per Linear, one for the tied head
}

TEST_CASE("bottleneck adapter: f64 gradcheck of h + f(z W_down + b_down) W_up + b_up, z = h or r + h") {
  for (AdapterActivation f : {AdapterActivation::Relu, AdapterActivation::Swish, AdapterActivation::GeluTanh}) {
    for (bool sum : {false, true}) {
      BottleneckOptions o;
      o.bottleneck = 3;
      o.activation = f;
      o.reads_residual_sum = sum;
      o.init = AdapterInit::Bert;
      Generator gen(4);
      BottleneckAdapter adapter(5, o, gen);
      auto leaf = [](const Tensor& t, double scale) {
        Tensor x = kernel::to(t, DType::F64) * scale;
        x = x.detach();
        x.set_requires_grad(true);
        return x;
      };
      Generator data(5);
      // away from ReLU's kink: inputs of moderate size, weights scaled up
      std::vector<Tensor> in{leaf(randn({2, 3, 5}, DType::F32, Device::cpu(), data), 1.0),
                             leaf(randn({2, 3, 5}, DType::F32, Device::cpu(), data), 1.0),
                             leaf(adapter.down->weight, 20.0), leaf(randn({3}, DType::F32, Device::cpu(), data), 0.3),
                             leaf(adapter.up->weight, 20.0), leaf(randn({5}, DType::F32, Device::cpu(), data), 0.3)};
      const GradcheckResult r = gradcheck(
          [&](const std::vector<Tensor>& t) {
            adapter.down->weight = t[2];
            adapter.down->bias = t[3];
            adapter.up->weight = t[4];
            adapter.up->bias = t[5];
            return adapter.apply_with_residual(Tensor(), t[0], t[1]);
          },
          in);
      INFO(r.report);
      CHECK(r.ok);
      CHECK(r.checked == 30 + 30 + 15 + 3 + 15 + 5);  // every element of every input, r too (its gradient is 0 when unused)
    }
  }
}

TEST_CASE("bottleneck adapter: trainable counts of PEFT.md §2.4 and §2.7 (GPT-2 small and medium)") {
  // adapters from the module construction over GPT-2's sites (no weights needed); the LayerNorms the
  // paper's Houlsby adds, (2L + 1) 2d (38,400 small, 100,352 medium), are GPT-2's own ln_1, ln_2,
  // ln_f: which parameters train is checked on the tiny model above
  auto adapter_count = [](int64_t d, int64_t L, BottleneckOptions o) {
    auto sites = testing::gpt2_site_names(L);
    Module base;
    BottleneckAdapters adapters(d, o, 1);
    adapters.attach(sites->map, base);
    return adapters.parameter_count(true);
  };
  // Houlsby m = 64: 2L(2dm + m + d)
  CHECK(adapter_count(768, 12, houlsby(64)) == 2379264);
  CHECK(adapter_count(1024, 24, houlsby(64)) == 6343680);
  // Pfeiffer L(2dm + m + d): small m = 48, medium m = 64
  CHECK(adapter_count(768, 12, pfeiffer(48)) == 894528);
  CHECK(adapter_count(1024, 24, pfeiffer(64)) == 3171840);
}

TEST_CASE("bottleneck adapter: a Pfeiffer adapter at a site without a residual stream is a clear error") {
  Generator gen(1);
  BottleneckAdapter adapter(4, pfeiffer(2), gen);
  try {
    adapter.apply(zeros({1, 1, 4}), zeros({1, 1, 4}));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("no residual") != std::string::npos);
  }
}

namespace {
void bart_parity(const std::string& name, const BottleneckOptions& o);
}  // namespace

TEST_CASE("bottleneck adapter parity on BART (AdapterHub DoubleSeqBn, post-LN: y = LN(r + (h + g(h)))): logits, "
          "loss, gradients, 10 AdamW steps") {
  // AdapterHub adds no cross-attention adapter by default (cross_adapter=False): self-attention and FFN
  // of every encoder and decoder layer. d = 32, reduction_factor 8: m = 4.
  bart_parity("houlsby_bart", [] {
    BottleneckOptions o = adapterhub_double_seq_bn(4);
    o.sites = {"self_attn", "ffn"};
    return o;
  }());
}

TEST_CASE("bottleneck adapter parity on BART (AdapterHub SeqBn \"Pfeiffer\", post-LN: z = LN(r + h), "
          "y = LN(r + h + g(z))): logits, loss, gradients, 10 AdamW steps") {
  // one adapter after every encoder and decoder FFN, reading the frozen final_layer_norm; m = 32 / 8
  bart_parity("pfeiffer_bart", pfeiffer(4));
}

namespace {
void bart_parity(const std::string& name, const BottleneckOptions& o) {
  auto run = [&](bool adamw) {
    auto model = load_bart("tests/fixtures/bart/model");
    model->train(false);
    const testing::HfReference ref = testing::load_reference(kFixtures + "/" + name);
    BottleneckAdapters adapters(32, o, 1);
    SiteMap sites = model->sites();
    adapters.attach(sites, *model);
    int64_t loaded = 0, in_file = 0;
    for (auto& [pname, p] : adapters.named_parameters()) {
      INFO(pname);
      REQUIRE(ref.tensors.count("init." + pname) == 1);
      kernel::copy_(p, ref.tensors.at("init." + pname));
      ++loaded;
    }
    for (auto& [key, t] : ref.tensors) in_file += key.starts_with("init.");
    CHECK(loaded == in_file);
    auto logits_of = [&]() {
      return model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"),
                            ref.tensors.at("decoder_input_ids"));
    };
    if (!adamw) {
      const Tensor logits = logits_of();
      const double err = testing::relative_error(logits, ref.tensors.at("logits"));
      const Tensor loss = model->loss(logits, ref.tensors.at("labels"));
      const double want = ref.json.at("loss");
      MESSAGE(name << ": logits relative error " << err << ", loss " << std::setprecision(9) << loss.item()
                                                     << " vs adapters " << want);
      CHECK(err <= 1e-5);
      CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
      backward(loss);
      for (auto& [base_name, p] : model->named_parameters()) {
        INFO(base_name);
        CHECK(!p.grad().defined());
      }
      testing::check_gradients_against(adapters, ref, 1e-4);
      return;
    }
    AdamW opt(adapters.trainable_parameters(), testing::adamw_options(ref.json.at("adamw")));
    double worst = 0.0;
    for (size_t step = 0; step < 10; ++step) {
      opt.zero_grad();
      const Tensor l = model->loss(logits_of(), ref.tensors.at("labels"));
      const double w = ref.json.at("adamw_losses").at(step);
      INFO("step " << step << ": petl " << l.item() << ", adapters " << w);
      CHECK(std::fabs(l.item() - w) <= 1e-5 * std::fabs(w));
      worst = std::max(worst, std::fabs(l.item() - w) / std::fabs(w));
      backward(l);
      opt.step();
    }
    MESSAGE(name << ": 10 AdamW steps, worst relative loss difference " << worst);
  };
  run(false);
  run(true);
}
}  // namespace

// Parallel and scaled parallel adapters (peft/parallel_adapter.h): parity with AdapterHub adapters
// 1.3 ParBnConfig (s = 4) and scaling="learned" on the tiny GPT-2
// (tools/oracle/adapters_fixtures.py adapters), identity at the lora init, gradients only to the
// adapters, f64 gradcheck, PEFT.md §6.4 counts.
#include <cmath>
#include <iomanip>

#include "autograd/gradcheck.h"
#include "nn/adamw.h"
#include "nn/bart_checkpoint.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/compose.h"
#include "peft/parallel_adapter.h"
#include "support/gpt2_site_names.h"
#include "support/peft_reference.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

const std::string kGpt2 = "tests/fixtures/gpt2";
const std::string kFixtures = "tests/fixtures/peft/parallel_adapter";

struct Case {
  std::unique_ptr<Gpt2LMHead> model;
  std::shared_ptr<ParallelAdapters> adapters;
  testing::HfReference ref;
};

// reduction_factor 12 on d = 48: r = 4
Case load_case(const std::string& name) {
  Case c;
  c.model = load_gpt2(kGpt2 + "/model");
  c.model->train(false);
  c.ref = testing::load_reference(kFixtures + "/" + name);
  c.adapters = std::make_shared<ParallelAdapters>(48, adapterhub_par_bn(4, name == "scaled_par_bn"), 1);
  SiteMap sites = c.model->sites();
  c.adapters->attach(sites, *c.model);
  testing::load_initial_parameters(*c.adapters, c.ref);  // the same adapters in the same places
  return c;
}

void check_parity(const std::string& name) { testing::check_reference_case(load_case, name, "adapters"); }

struct BartCase {
  std::unique_ptr<BartForConditionalGeneration> model;
  std::shared_ptr<ParallelAdapters> adapters;
  testing::HfReference ref;
};

// AdapterHub's ParBn on BART: every encoder and decoder FFN ("ffn" sites), reading the residual
// stream, which BART's post-LN layers pass as the FFN input itself. d = 32, reduction_factor 8: r = 4.
BartCase load_bart_case(const std::string& name) {
  BartCase c;
  c.model = load_bart("tests/fixtures/bart/model");
  c.model->train(false);
  c.ref = testing::load_reference(kFixtures + "/" + name);
  ParallelOptions o = adapterhub_par_bn(4, name == "scaled_par_bn_bart");
  o.sites = {"ffn"};
  c.adapters = std::make_shared<ParallelAdapters>(32, o, 1);
  SiteMap sites = c.model->sites();
  c.adapters->attach(sites, *c.model);
  testing::load_initial_parameters(*c.adapters, c.ref);
  return c;
}

}  // namespace

TEST_CASE("parallel adapter parity (AdapterHub ParBn, s = 4): logits, loss, gradients, 10 AdamW steps") {
  check_parity("par_bn");
}

TEST_CASE("parallel adapter parity (AdapterHub ParBn, learned s): logits, loss, gradients, 10 AdamW steps") {
  check_parity("scaled_par_bn");
}

TEST_CASE("parallel adapter parity on BART (AdapterHub ParBn, s = 4, post-LN: y = LN(r + h + s f(r W_down) W_up)): "
          "logits, loss, gradients, 10 AdamW steps") {
  testing::check_reference_case(load_bart_case, "par_bn_bart", "adapters");
}

TEST_CASE("parallel adapter parity on BART (AdapterHub ParBn, learned s): logits, loss, gradients, 10 AdamW steps") {
  testing::check_reference_case(load_bart_case, "scaled_par_bn_bart", "adapters");
}

TEST_CASE("parallel adapter on BART: the par-bn preset composes (input=residual) and equals ParallelAdapters, which "
          "reads the same as input=sublayer_in there") {
  auto model = load_bart("tests/fixtures/bart/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference("tests/fixtures/peft/parallel_adapter/par_bn_bart");
  auto composed = compose("par-bn", *model, 7);  // parallel:r=d/2,s=4,init=lora,input=residual@ffn
  Generator gen(8);
  for (auto& [name, p] : composed->named_parameters()) kernel::copy_(p, randn(p.shape(), DType::F32, Device::cpu(), gen) * 0.2);
  const std::vector<double> residual = testing::reference_logits(*model, ref).to_vector();
  composed->detach();
  ParallelOptions o = scaled_parallel_adapter(16, 4.0);  // input = sublayer_in
  o.sites = {"ffn"};
  ParallelAdapters sublayer_in(32, o, 1);
  SiteMap sites = model->sites();
  sublayer_in.attach(sites, *model);
  std::vector<Tensor> from = composed->trainable_parameters(), to = sublayer_in.trainable_parameters();
  REQUIRE(from.size() == to.size());
  for (size_t i = 0; i < from.size(); ++i) kernel::copy_(to[i], from[i]);
  CHECK(testing::reference_logits(*model, ref).to_vector() == residual);
  sublayer_in.detach();
  CHECK(testing::reference_logits(*model, ref).to_vector() != residual);  // the adapters do act
}

TEST_CASE("parallel adapter: at the lora init the logits are exactly the base model's (both inputs)") {
  auto model = load_gpt2(kGpt2 + "/model");
  model->train(false);
  const testing::HfReference ref = testing::load_reference(kGpt2);
  const Tensor ids = ref.tensors.at("input_ids"), mask = ref.tensors.at("attention_mask");
  const std::vector<double> base = model->forward(ids, mask).to_vector();
  for (ParallelOptions o : {scaled_parallel_adapter(4), adapterhub_par_bn(4, true)}) {
    o.sites = {"attn", "mlp"};
    ParallelAdapters adapters(48, o, 2);
    SiteMap sites = model->sites();
    adapters.attach(sites, *model);
    CHECK(model->forward(ids, mask).to_vector() == base);
    adapters.detach();
  }
}

TEST_CASE("parallel adapter: gradients reach only the adapters, and the frozen base costs no weight-gradient GEMM") {
  auto count = [](bool frozen) {
    auto model = load_gpt2(kGpt2 + "/model");
    model->train(false);
    const testing::HfReference ref = testing::load_reference(kGpt2);
    ParallelAdapters adapters(48, parallel_adapter(4), 3);
    SiteMap sites = model->sites();
    adapters.attach(sites, *model);
    if (!frozen) model->set_trainable(true);
    const Tensor loss = model->loss(model->forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask")),
                                    ref.tensors.at("labels"));
    const int64_t before = kernel_counters().matmul_calls;
    backward(loss);
    const int64_t gemms = kernel_counters().matmul_calls - before;
    if (frozen) {
      for (auto& [param_name, p] : model->named_parameters()) {
        const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
        INFO(name);
        CHECK(!p.grad().defined());
      }
      for (auto& [param_name, p] : adapters.named_parameters()) {
        const std::string name = param_name;
        INFO(name);
        CHECK(p.grad().defined());
      }
    }
    return gemms;
  };
  const int64_t frozen = count(true), full = count(false);
  MESSAGE("backward matmuls: frozen base " << frozen << ", trainable base " << full);
  // Frozen base (2 blocks, adapters on the FFNs reading LN_2(a)): the head's input gradient (1);
  // block 1: its adapter (up dW, dx; down dW, dx: 4), the FFN's and the attention's input gradients
  // (2 + 2, block 0's adapter lies upstream); block 0: its adapter (up dW, dx; down dW: 3; down's
  // input comes from frozen layers) = 12. A trainable base adds the 9 weight-gradient GEMMs and
  // block 0's remaining input gradients (FFN 2, adapter down 1, attention 2).
  CHECK(frozen == 1 + 4 + 2 + 2 + 3);
  CHECK(full == frozen + 2 * 4 + 1 + 5);
}

TEST_CASE("parallel adapter: f64 gradcheck of h + s (relu(z W_down + b_down) W_up + b_up), s fixed and learned") {
  for (bool learned : {false, true}) {
    ParallelOptions o = parallel_adapter(3);
    o.learned_scaling = learned;
    o.scaling = 2.5;
    Generator gen(4);
    ParallelAdapter adapter(5, o, gen);
    auto leaf = [](const Tensor& t, double scale) {
      Tensor x = (kernel::to(t, DType::F64) * scale).detach();
      x.set_requires_grad(true);
      return x;
    };
    Generator data(5);
    std::vector<Tensor> in{leaf(randn({2, 3, 5}, DType::F32, Device::cpu(), data), 1.0),
                           leaf(randn({2, 3, 5}, DType::F32, Device::cpu(), data), 1.0),
                           leaf(adapter.down->weight, 20.0), leaf(randn({3}, DType::F32, Device::cpu(), data), 0.3),
                           leaf(adapter.up->weight, 20.0), leaf(randn({5}, DType::F32, Device::cpu(), data), 0.3),
                           leaf(ones({1}), 1.7)};
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Tensor>& t) {
          adapter.down->weight = t[2];
          adapter.down->bias = t[3];
          adapter.up->weight = t[4];
          adapter.up->bias = t[5];
          if (learned) adapter.scaling = t[6];
          return adapter.apply(t[0], t[1]);
        },
        learned ? in : std::vector<Tensor>(in.begin(), in.end() - 1));
    INFO(r.report);
    CHECK(r.ok);
    CHECK(r.checked == 30 + 30 + 15 + 3 + 15 + 5 + (learned ? 1 : 0));
  }
}

TEST_CASE("parallel adapter: trainable counts of PEFT.md §6.4 (FFN, r = 512, GPT-2 small and medium)") {
  auto count = [](int64_t d, int64_t L) {
    auto sites = testing::gpt2_site_names(L);
    Module base;
    ParallelAdapters adapters(d, scaled_parallel_adapter(512), 1);
    adapters.attach(sites->map, base);
    return adapters.parameter_count(true);
  };
  CHECK(count(768, 12) == 9452544);
  CHECK(count(1024, 24) == 25202688);
}

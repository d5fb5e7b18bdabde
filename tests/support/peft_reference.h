// The `peft` oracle's reference results (tools/oracle/peft_fixtures.py) on the tiny GPT-2 and BART
// fixtures, and what the PEFT parity tests share: loading the oracle's initial parameters, logits /
// loss / gradients against the reference, 10 AdamW steps against its losses.
#pragma once
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "nn/adamw.h"
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "support/hf_reference.h"
#include "tensor/kernels.h"

namespace petl::testing {

// Copies the reference's "init.<name>" into each of `method`'s parameters; every "init." tensor in the
// file must be used (the same method's parameters in the same places).
inline void load_initial_parameters(const nn::Module& method, const HfReference& ref) {
  int64_t loaded = 0, in_file = 0;
  for (const auto& [param_name, p] : method.named_parameters()) {
    const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
    INFO(name);
    auto it = ref.tensors.find("init." + name);
    REQUIRE(it != ref.tensors.end());
    REQUIRE(it->second.shape() == p.shape());
    kernel::copy_(p, it->second);
    ++loaded;
  }
  for (const auto& [key, t] : ref.tensors) in_file += key.starts_with("init.");
  CHECK(loaded == in_file);
}

// One forward's `logits` (their error against the reference's, `logits_err`, measured by the caller)
// and loss against the reference's "loss", then backward: the frozen base receives no gradient, each
// of `method`'s trainable parameters the reference's "grad.<name>". `label` names the case, `oracle`
// the tool that produced the reference ("peft", "adapters").
template <class Model>
void check_reference_parity(Model& model, const nn::Module& method, const HfReference& ref, const Tensor& logits,
                            double logits_err, const std::string& label, const std::string& oracle) {
  const Tensor loss = model.loss(logits, ref.tensors.at("labels"));
  const double want = ref.json.at("loss");
  MESSAGE(label << ": logits relative error " << logits_err << ", loss " << std::setprecision(9) << loss.item()
                << " vs " << oracle << " " << want);
  CHECK(logits_err <= 1e-5);
  CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
  backward(loss);
  for (const auto& [param_name, p] : model.named_parameters()) {
    const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
    INFO("base parameter " << name);
    CHECK(!p.grad().defined());  // the base is frozen: no gradient is even computed
  }
  check_gradients_against(method, ref, 1e-4);
}

// AdamW over `params` with the reference's "adamw" options: each step's loss (`loss_of()`, a fresh
// forward) equals the reference's "adamw_losses" (10 of them) to 1e-5 relative. Returns the worst
// relative difference.
template <class LossOf>
double check_reference_adamw(const std::vector<Tensor>& params, const HfReference& ref, LossOf loss_of,
                             const std::string& label, const std::string& oracle) {
  nn::AdamW opt(params, adamw_options(ref.json.at("adamw")));
  const auto& expected = ref.json.at("adamw_losses");
  REQUIRE(expected.size() == 10);
  double worst = 0.0;
  for (size_t step = 0; step < expected.size(); ++step) {
    opt.zero_grad();
    const Tensor loss = loss_of();
    const double want = expected[step];
    INFO("step " << step << ": petl " << loss.item() << ", " << oracle << " " << want);
    CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
    worst = std::max(worst, std::fabs(loss.item() - want) / std::fabs(want));
    backward(loss);
    opt.step();
  }
  MESSAGE(label << ": 10 AdamW steps, worst relative loss difference " << worst);
  return worst;
}

// The logits of a reference's batch: input_ids and attention_mask (GPT-2), and decoder_input_ids (BART).
inline Tensor reference_logits(nn::Gpt2LMHead& model, const HfReference& ref) {
  return model.forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"));
}
inline Tensor reference_logits(nn::BartForConditionalGeneration& model, const HfReference& ref) {
  return model.forward(ref.tensors.at("input_ids"), ref.tensors.at("attention_mask"),
                       ref.tensors.at("decoder_input_ids"));
}

// The whole parity check of a method on one oracle case: logits, loss and gradients, then 10 AdamW
// steps from a freshly loaded copy. `load_case(name)` returns a struct with `model` (a pointer to a
// GPT-2 or BART model), `adapters` (the attached method) and `ref` (its reference results, with the
// batch: tensors input_ids, attention_mask, labels, and decoder_input_ids for BART).
template <class LoadCase>
void check_reference_case(LoadCase load_case, const std::string& name, const std::string& oracle) {
  auto logits_of = [](auto& c) { return reference_logits(*c.model, c.ref); };
  auto c = load_case(name);
  const Tensor logits = logits_of(c);
  check_reference_parity(*c.model, *c.adapters, c.ref, logits, relative_error(logits, c.ref.tensors.at("logits")), name,
                         oracle);
  auto d = load_case(name);
  check_reference_adamw(
      d.adapters->trainable_parameters(), d.ref, [&] { return d.model->loss(logits_of(d), d.ref.tensors.at("labels")); },
      name, oracle);
}

inline const char* kPeftSavedPrefix = "base_model.model.";

// The batch of tests/fixtures/<base> (the oracle ran peft on the same one) and peft's results.
struct PeftCase {
  HfReference gpt2;  // the base model's batch: input_ids, attention_mask, labels (+ decoder_input_ids)
  HfReference peft;  // logits, merged_logits, grad.<saved key>; loss, adamw_losses
};

// `fixture` is the directory under tests/fixtures/peft; `base` "gpt2" or "bart".
inline PeftCase load_peft_case(const std::string& fixture, const std::string& base = "gpt2") {
  return {load_reference("tests/fixtures/" + base), load_reference("tests/fixtures/peft/" + fixture)};
}

inline Tensor fixture_logits(nn::Gpt2LMHead& model, const PeftCase& c) {
  return model.forward(c.gpt2.tensors.at("input_ids"), c.gpt2.tensors.at("attention_mask"));
}

inline Tensor fixture_logits(nn::BartForConditionalGeneration& model, const PeftCase& c) {
  return model.forward(c.gpt2.tensors.at("input_ids"), c.gpt2.tensors.at("attention_mask"),
                       c.gpt2.tensors.at("decoder_input_ids"));
}

// Logits, loss and the method's gradients against peft's; the base model must receive none.
template <class Model>
void check_peft_parity(Model& model, const nn::Module& method, const PeftCase& c) {
  const Tensor logits = fixture_logits(model, c);
  const double logits_err = relative_error(logits, c.peft.tensors.at("logits"));
  const Tensor loss = model.loss(logits, c.gpt2.tensors.at("labels"));
  const double want = c.peft.json.at("loss");
  MESSAGE("logits relative error " << logits_err << "; loss " << loss.item() << " vs peft " << want);
  CHECK(logits_err <= 1e-5);
  CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
  backward(loss);
  for (const auto& [param_name, p] : model.named_parameters()) {
    const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
    INFO("base parameter " << name);
    CHECK(!p.grad().defined());
  }
  double worst = 0.0;
  int64_t checked = 0;
  for (const auto& [param_name, p] : method.named_parameters()) {
    const std::string name = param_name;  // (clang 14: INFO's lambda cannot capture a structured binding)
    INFO("gradient of " << name);
    const Tensor& want_grad = c.peft.tensors.at("grad." + std::string(kPeftSavedPrefix) + name);
    REQUIRE(p.grad().defined());
    const double err = relative_error(p.grad(), want_grad);
    CHECK(err <= 1e-4);
    worst = std::max(worst, err);
    ++checked;
  }
  CHECK(checked > 0);
  MESSAGE("gradients: " << checked << " tensors, worst relative error " << worst);
}

// 10 AdamW steps over the method's parameters give peft's losses.
template <class Model>
void check_peft_adamw(Model& model, const nn::Module& method, const PeftCase& c) {
  const auto loss_of = [&] { return model.loss(fixture_logits(model, c), c.gpt2.tensors.at("labels")); };
  check_reference_adamw(method.trainable_parameters(), c.peft, loss_of, "AdamW losses", "peft");
  const auto& expected = c.peft.json.at("adamw_losses");
  MESSAGE("AdamW losses from " << double(expected[0]) << " to " << double(expected[9]));
}

}  // namespace petl::testing

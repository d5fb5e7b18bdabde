// The `peft` oracle's reference results (tools/oracle/peft_fixtures.py) on the tiny GPT-2 and BART
// fixtures, and what the LoRA and (IA)^3 parity tests share.
#pragma once
#include <cmath>
#include <string>

#include "autograd/graph.h"
#include "nn/adamw.h"
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "support/hf_reference.h"

namespace petl::testing {

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
  for (const auto& [name, p] : model.named_parameters()) {
    INFO("base parameter " << name);
    CHECK(!p.grad().defined());
  }
  double worst = 0.0;
  int64_t checked = 0;
  for (const auto& [name, p] : method.named_parameters()) {
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
  nn::AdamW opt(method.trainable_parameters(), adamw_options(c.peft.json.at("adamw")));
  const auto& expected = c.peft.json.at("adamw_losses");
  REQUIRE(expected.size() == 10);
  double worst = 0.0;
  for (size_t step = 0; step < expected.size(); ++step) {
    opt.zero_grad();
    const Tensor loss = model.loss(fixture_logits(model, c), c.gpt2.tensors.at("labels"));
    const double want = expected[step];
    INFO("step " << step << ": petl " << loss.item() << ", peft " << want);
    CHECK(std::fabs(loss.item() - want) <= 1e-5 * std::fabs(want));
    worst = std::max(worst, std::fabs(loss.item() - want) / std::fabs(want));
    backward(loss);
    opt.step();
  }
  MESSAGE("AdamW losses: worst relative difference " << worst << " (" << double(expected[0]) << " -> "
                                                       << double(expected[9]) << ")");
}

}  // namespace petl::testing

// peft/attach.h: choosing sites by name the way peft's target_modules does, and by glob.
#include "nn/bart.h"
#include "nn/gpt2.h"
#include "peft/attach.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::peft;

TEST_CASE("attach: a plain pattern matches the whole name or a dotted suffix, and '*' globs across dots") {
  CHECK(name_matches("transformer.h.0.attn.c_attn", "c_attn"));
  CHECK(name_matches("transformer.h.0.attn.c_attn", "attn.c_attn"));
  CHECK(name_matches("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_attn"));
  CHECK(!name_matches("transformer.h.0.attn.c_attn", "attn"));
  CHECK(!name_matches("transformer.h.0.attn.c_attn", "_attn"));  // suffixes start at a dot
  CHECK(name_matches("transformer.h.0.mlp.c_proj", "mlp.c_proj"));
  CHECK(!name_matches("transformer.h.0.attn.c_proj", "mlp.c_proj"));
  CHECK(name_matches("transformer.h.11.mlp.c_fc", "transformer.h.*.mlp.c_fc"));
  CHECK(name_matches("model.decoder.layers.1.encoder_attn.q_proj", "*.decoder.*q_proj"));
  CHECK(!name_matches("model.encoder.layers.1.self_attn.q_proj", "*.decoder.*q_proj"));
  CHECK(name_matches("anything", "*"));
  CHECK(!name_matches("transformer.h.0.attn.c_attn", "transformer.h.*.mlp.*"));
}

TEST_CASE("attach: linear targets carry the weight, bias and layout, and no match is an error naming the patterns") {
  nn::Gpt2Config c;
  c.vocab_size = 16;
  c.n_positions = 8;
  c.n_embd = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.bos_token_id = c.eos_token_id = 15;
  nn::Gpt2LMHead gpt2(c, 1);
  const auto targets = linear_targets(gpt2, gpt2.sites(), {"c_attn", "transformer.h.1.mlp.*"});
  REQUIRE(targets.size() == 4);
  CHECK(targets[0].name == "transformer.h.0.attn.c_attn");
  CHECK(targets[0].layout == nn::WeightLayout::InOut);
  CHECK(targets[0].in == 8);
  CHECK(targets[0].out == 24);
  CHECK(targets[0].bias.defined());
  CHECK(targets[2].name == "transformer.h.1.mlp.c_fc");
  CHECK(targets[3].name == "transformer.h.1.mlp.c_proj");
  CHECK(targets[3].in == 32);
  CHECK_THROWS_WITH_AS(linear_targets(gpt2, gpt2.sites(), {"q_proj", "k_proj"}),
                       doctest::Contains("no linear site matches the target modules [q_proj, k_proj]"), Error);

  nn::BartConfig b;
  b.vocab_size = 40;
  b.d_model = 16;
  b.encoder_layers = b.decoder_layers = 1;
  b.encoder_attention_heads = b.decoder_attention_heads = 2;
  b.encoder_ffn_dim = b.decoder_ffn_dim = 32;
  b.max_position_embeddings = 16;
  nn::BartForConditionalGeneration bart(b, 2);
  const auto fc1 = linear_targets(bart, bart.sites(), {"fc1"});
  REQUIRE(fc1.size() == 2);
  CHECK(fc1[0].layout == nn::WeightLayout::OutIn);
  CHECK(fc1[0].weight.shape() == Shape{32, 16});
  CHECK(fc1[0].in == 16);
  CHECK(fc1[0].out == 32);
}

// Loading Module parameters from checkpoints under a KeyMap, and saving them: prefixes, tied
// copies, skipped buffers, optional parameters, layouts, and the strict errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/state_dict.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;
namespace fs = std::filesystem;

namespace {

// A two-level module shaped like a tiny GPT-2 LM: "transformer.wte.weight", "transformer.h.0.*".
class TinyBlock : public Module {
 public:
  TinyBlock() {
    ln = register_module("ln_1", std::make_shared<LayerNorm>(4));
    fc = register_module("c_fc", std::make_shared<Linear>(4, 3));
  }
  std::shared_ptr<LayerNorm> ln;
  std::shared_ptr<Linear> fc;
};
class TinyBody : public Module {
 public:
  TinyBody() {
    wte = register_module("wte", std::make_shared<Embedding>(5, 4));
    block = register_module("h.0", std::make_shared<TinyBlock>());
  }
  std::shared_ptr<Embedding> wte;
  std::shared_ptr<TinyBlock> block;
};
class TinyLM : public Module {
 public:
  TinyLM() { body = register_module("transformer", std::make_shared<TinyBody>()); }
  std::shared_ptr<TinyBody> body;
};

KeyMap tiny_gpt2_keys() {
  KeyMap keys;
  keys.to_param = accept_prefix("transformer.", {"lm_head.weight"}, {".attn.bias", ".attn.masked_bias"});
  keys.tied = {{"transformer.wte.weight", {"lm_head.weight"}}};
  return keys;
}

Tensor values(const Shape& shape, double start) {
  std::vector<double> v(size_t(numel_of(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + 0.25 * double(i);
  return from_vector(v, shape, DType::F32);
}

// The hub layout: no prefix, a causal-mask buffer, no lm_head.
TensorMap hub_file() {
  return {{"wte.weight", values({5, 4}, 1)},
          {"h.0.ln_1.weight", values({4}, 2)},
          {"h.0.ln_1.bias", values({4}, 3)},
          {"h.0.c_fc.weight", values({4, 3}, 4)},
          {"h.0.c_fc.bias", values({3}, 5)},
          {"h.0.attn.bias", values({1, 1, 2, 2}, 6)}};
}

std::string load_error(const Module& m, const TensorMap& file, const KeyMap& keys) {
  try {
    load_state_dict(m, Checkpoint::from_tensors(file, "ckpt.safetensors"), keys);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a hub-layout file loads into prefixed parameter names, skipping buffers") {
  TinyLM m;
  const LoadReport r = load_state_dict(m, Checkpoint::from_tensors(hub_file()), tiny_gpt2_keys());
  CHECK(r.loaded.size() == 5);
  CHECK(r.skipped == std::vector<std::string>{"h.0.attn.bias"});
  CHECK(m.body->wte->weight.to_vector() == values({5, 4}, 1).to_vector());
  CHECK(m.body->block->fc->weight.to_vector() == values({4, 3}, 4).to_vector());
  CHECK(m.body->block->fc->bias.to_vector() == values({3}, 5).to_vector());
  CHECK(m.body->wte->weight.requires_grad());  // still a trainable leaf
}

TEST_CASE("the prefixed layout with a tied lm_head loads the same; a file holding only the tied copy too") {
  TensorMap prefixed;
  for (auto& [k, v] : hub_file()) prefixed.emplace("transformer." + k, v);
  prefixed.emplace("lm_head.weight", values({5, 4}, 1));
  TinyLM a;
  load_state_dict(a, Checkpoint::from_tensors(prefixed), tiny_gpt2_keys());
  CHECK(a.body->wte->weight.to_vector() == values({5, 4}, 1).to_vector());

  prefixed.erase("transformer.wte.weight");
  TinyLM b;
  const LoadReport r = load_state_dict(b, Checkpoint::from_tensors(prefixed), tiny_gpt2_keys());
  CHECK(r.from_tied == std::vector<std::string>{"transformer.wte.weight <- lm_head.weight"});
  CHECK(b.body->wte->weight.to_vector() == values({5, 4}, 1).to_vector());
}

TEST_CASE("missing, unexpected, colliding and wrongly shaped keys are errors naming file, key and shapes") {
  TinyLM m;
  const auto before = m.body->block->fc->weight.to_vector();

  TensorMap missing = hub_file();
  missing.erase("h.0.c_fc.bias");
  std::string e = load_error(m, missing, tiny_gpt2_keys());
  CHECK(e.find("ckpt.safetensors") != std::string::npos);
  CHECK(e.find("missing key 'transformer.h.0.c_fc.bias'") != std::string::npos);
  CHECK(e.find("[3]") != std::string::npos);

  TensorMap extra = hub_file();
  extra.emplace("h.0.c_proj.weight", values({3, 4}, 0));
  e = load_error(m, extra, tiny_gpt2_keys());
  CHECK(e.find("unexpected key 'h.0.c_proj.weight'") != std::string::npos);

  TensorMap both = hub_file();
  both.emplace("transformer.wte.weight", values({5, 4}, 1));
  e = load_error(m, both, tiny_gpt2_keys());
  CHECK(e.find("both map to 'transformer.wte.weight'") != std::string::npos);

  TensorMap wrong = hub_file();
  wrong["h.0.c_fc.weight"] = values({3, 4}, 0);  // [out, in] where [in, out] is expected
  wrong["h.0.c_fc.bias"] = values({4}, 0);
  e = load_error(m, wrong, tiny_gpt2_keys());
  CHECK(e.find("key 'h.0.c_fc.weight' in ckpt.safetensors: shape [3, 4], expected [4, 3]") != std::string::npos);
  CHECK(e.find("2 problems") != std::string::npos);  // both shapes are reported at once

  TensorMap ints = hub_file();
  ints["h.0.c_fc.bias"] = from_vector(std::vector<int64_t>{1, 2, 3}, {3});
  e = load_error(m, ints, tiny_gpt2_keys());
  CHECK(e.find("dtype int64, expected a floating type") != std::string::npos);

  // Nothing was changed by any failed load.
  CHECK(m.body->block->fc->weight.to_vector() == before);
}

TEST_CASE("optional parameters keep their value when the file lacks them") {
  TinyLM m;
  KeyMap keys = tiny_gpt2_keys();
  keys.optional = {"transformer.h.0.c_fc.bias"};
  kernel::fill_(m.body->block->fc->bias, 7.0);
  TensorMap file = hub_file();
  file.erase("h.0.c_fc.bias");
  const LoadReport r = load_state_dict(m, Checkpoint::from_tensors(file), keys);
  CHECK(r.kept == std::vector<std::string>{"transformer.h.0.c_fc.bias"});
  CHECK(m.body->block->fc->bias.to_vector() == std::vector<double>{7, 7, 7});
}

TEST_CASE("a layout hook converts [out, in] files to [in, out] parameters and back") {
  KeyMap keys = tiny_gpt2_keys();
  const auto is_linear_weight = [](const std::string& p) { return p.ends_with("c_fc.weight"); };
  keys.load_layout = [&](const std::string& p, const Tensor& t) {
    return is_linear_weight(p) ? kernel::transpose(t, 0, 1) : t;
  };
  keys.save_layout = keys.load_layout;
  TensorMap file = hub_file();
  file["h.0.c_fc.weight"] = values({3, 4}, 4);
  TinyLM m;
  load_state_dict(m, Checkpoint::from_tensors(file), keys);
  CHECK(m.body->block->fc->weight.to_vector() == kernel::contiguous(kernel::transpose(values({3, 4}, 4), 0, 1)).to_vector());
  const TensorMap saved = state_dict(m, keys);
  CHECK(saved.at("transformer.h.0.c_fc.weight").shape() == Shape{3, 4});
  CHECK(kernel::contiguous(saved.at("transformer.h.0.c_fc.weight")).to_vector() == values({3, 4}, 4).to_vector());
}

TEST_CASE("state_dict -> save_checkpoint -> load_state_dict reproduces every parameter, single file and sharded") {
  TinyLM src;
  load_state_dict(src, Checkpoint::from_tensors(hub_file()), tiny_gpt2_keys());
  const TensorMap saved = state_dict(src, tiny_gpt2_keys());
  CHECK(saved.size() == 5);
  CHECK(saved.count("transformer.wte.weight") == 1);
  CHECK(saved.count("lm_head.weight") == 0);  // tied: stored once, as save_pretrained does

  const fs::path dir = fs::temp_directory_path() / ("petl_state_dict_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (uint64_t shard_bytes : {uint64_t(0), uint64_t(40)}) {
    save_checkpoint(dir, saved, shard_bytes);
    CHECK(fs::exists(dir / (shard_bytes ? kSafetensorsIndex : kSafetensorsWeights)));
    CHECK(!fs::exists(dir / (shard_bytes ? kSafetensorsWeights : kSafetensorsIndex)));
    TinyLM dst;
    load_state_dict(dst, Checkpoint::open_dir(dir), tiny_gpt2_keys());
    const auto a = src.named_parameters(), b = dst.named_parameters();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      INFO(a[i].first);
      CHECK(a[i].second.to_vector() == b[i].second.to_vector());
    }
  }
  fs::remove_all(dir);
}

// Loading a Module's parameters from a checkpoint and saving them, under the names a real model
// file uses.
//
// Module parameter names (Module::named_parameters) follow Hugging Face's, but files differ in
// small ways: GPT-2 hub files have no "transformer." prefix while save_pretrained writes one;
// tied tensors are stored once, twice or not at all (GPT-2's lm_head.weight is wte.weight; BART's
// model.encoder.embed_tokens.weight and model.decoder.embed_tokens.weight are copies of
// model.shared.weight); files carry buffers that are not parameters (GPT-2's h.{i}.attn.bias
// causal mask, attn.masked_bias). A KeyMap says all of that for one model, as data and two
// small functions; load_state_dict applies it and checks strictly: a parameter no key supplies, a
// key no parameter takes, a wrong shape or a non-float tensor is an error naming the file, the key,
// the shape found and the shape expected.
//
// How a model uses it (the models' own files hold their KeyMap), e.g. GPT-2 whose module names are
// "transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", ...:
//
//   KeyMap gpt2_key_map() {
//     KeyMap keys;
//     keys.to_param = accept_prefix("transformer.", /*outside=*/{"lm_head.weight"},
//                                   /*skip_suffixes=*/{".attn.bias", ".attn.masked_bias"});
//     keys.tied = {{"transformer.wte.weight", {"lm_head.weight"}}};
//     return keys;                           // to_file stays the identity: files get "transformer.*"
//   }
//   Checkpoint ckpt = Checkpoint::open_dir(dir);          // nn/checkpoint.h
//   load_state_dict(model, ckpt, gpt2_key_map());
//   save_checkpoint(out_dir, state_dict(model, gpt2_key_map()));
//
// BART (module names "model.shared.weight", "model.encoder.layers.0.fc1.weight", ...,
// "final_logits_bias"): to_param = accept_prefix("model.", {"final_logits_bias", "lm_head.weight"}, {}),
// tied = {{"model.shared.weight", {"model.encoder.embed_tokens.weight",
// "model.decoder.embed_tokens.weight", "lm_head.weight"}}}, optional = {"final_logits_bias"}; and,
// if its Linear layers keep GPT-2's [in, out] layout while the file holds nn.Linear's [out, in],
// load_layout / save_layout transpose the ".weight" of those layers.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/module.h"

namespace petl::nn {

struct KeyMap {
  // A key as found in a file -> the parameter name it supplies, or std::nullopt for a key that is
  // skipped (a buffer). The identity by default.
  std::function<std::optional<std::string>(const std::string& file_key)> to_param;
  // A parameter name -> the key it is saved under. The identity by default.
  std::function<std::string(const std::string& param)> to_file;
  // Tied parameters: parameter -> names (after to_param) of copies of it that a file may hold
  // besides it or instead of it. The parameter's own name is used first, then the copies in order.
  std::map<std::string, std::vector<std::string>> tied;
  // Parameters a file may lack; they keep their current value (e.g. BART's final_logits_bias,
  // zeros when absent).
  std::set<std::string> optional;
  // Layout conversions between a file's tensor and the parameter (e.g. a transpose); the identity
  // by default. load_layout runs before the shape check; save_layout is its inverse.
  std::function<Tensor(const std::string& param, const Tensor& stored)> load_layout;
  std::function<Tensor(const std::string& param, const Tensor& value)> save_layout;
};

// A to_param hook for files whose keys may or may not carry `prefix`: a key without it gets it,
// unless it is one of `outside` (parameters that live outside the prefix); a key ending in one of
// `skip_suffixes` is skipped.
std::function<std::optional<std::string>(const std::string&)> accept_prefix(
    std::string prefix, std::set<std::string> outside, std::vector<std::string> skip_suffixes);

// What load_state_dict did, for logs and tests.
struct LoadReport {
  std::vector<std::string> loaded;         // parameters set from their own key
  std::vector<std::string> from_tied;      // parameters set from a tied copy ("param <- key")
  std::vector<std::string> kept;           // optional parameters the file lacked
  std::vector<std::string> skipped;        // file keys to_param dropped
};

// Sets every parameter of `module` from `checkpoint` (values copied into the existing parameter
// tensors, converted to their dtype and device). Strict: every problem found is listed in one
// petl::Error (missing keys, unexpected keys, wrong shapes, keys that collide after renaming).
LoadReport load_state_dict(const Module& module, const Checkpoint& checkpoint, const KeyMap& keys = {});

// The module's parameters under their file keys (to_file and save_layout applied), ready for
// save_checkpoint or save_safetensors. Tied copies are not repeated: each parameter appears once.
TensorMap state_dict(const Module& module, const KeyMap& keys = {});

}  // namespace petl::nn

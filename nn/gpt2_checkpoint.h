// GPT-2 model directories in Hugging Face's layout, in and out: config.json + model.safetensors
// (or a sharded index). Key names follow transformers exactly, so loading is a renaming:
//   - save_pretrained writes "transformer.*" and omits the tied lm_head.weight; hub files such as
//     gpt2/model.safetensors have no prefix; both load, and petl writes the "transformer." form;
//   - the buffers h.{i}.attn.bias (causal mask) and h.{i}.attn.masked_bias are skipped;
//   - Conv1D weights are [in, out] in the file and in petl (no transpose anywhere);
//   - F32, F16 and BF16 files load into float32 parameters.
#pragma once
#include <filesystem>
#include <memory>

#include "nn/gpt2.h"
#include "nn/state_dict.h"

namespace petl::nn {

KeyMap gpt2_key_map();

// Reads dir/config.json and the weights; every missing/unexpected key or wrong shape is an error
// naming the file, the key, found and expected.
std::unique_ptr<Gpt2LMHead> load_gpt2(const std::filesystem::path& dir);

// Writes dir/config.json and dir/model.safetensors atomically (created if missing).
void save_gpt2(const Gpt2LMHead& model, const std::filesystem::path& dir);

}  // namespace petl::nn

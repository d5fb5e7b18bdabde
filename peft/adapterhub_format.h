// AdapterHub's `save_adapter` directory (adapters 1.3; shared/PEFT.md §14.2), read and written for
// the bottleneck family and prefix tuning:
//
//   adapter_config.json   {"config": <the AdapterConfig's to_dict()>, "hidden_size": d,
//                          "model_class": "GPT2LMHeadModel" | "BartForConditionalGeneration",
//                          "model_name": ..., "model_type": "gpt2" | "bart", "name": <adapter name>,
//                          "version": "adapters.1.3.0"}   (indent 2, sorted keys, as adapters writes it)
//   adapter.safetensors   the adapter's tensors under adapters' own key names (use_safetensors=True;
//                         adapters writes pytorch_adapter.bin otherwise, which petl does not read)
//
// Keys (N = the adapter name; torch nn.Linear layout [out, in]):
//   sequential / parallel bottleneck at an attention or FFN of layer i:
//     <layer>.{attention_adapters|output_adapters|cross_attention_adapters}.adapters.N.
//         {adapter_down.0.weight, adapter_down.0.bias, adapter_up.weight, adapter_up.bias[, scaling]}
//     <layer> = transformer.h.i (GPT-2: attn, mlp) or model.{encoder|decoder}.layers.i (BART: self_attn,
//     ffn, encoder_attn)
//   prefix tuning: <root>.prefix_tuning.prefix_tunings.N.<loc>.{wte.weight, control_trans.{0,2}.{weight,bias}}
//     <root> = transformer | model, <loc> = self_prefix (GPT-2; BART decoder self), encoder_prefix,
//     cross_prefix; a folded (flat) prefix is "flat": true with one vector <loc>.control_trans [P·2Ld]
//   MAM ("union" of prefix_tuning and a parallel bottleneck): both sets of keys under one name.
//
// adapters 1.3 saves the same prefix tensor once per attention that shares it (model.encoder.layers.0.
// self_attn.prefix_tuning.pool.prefix_tunings.N...), and its safetensors writer refuses those shared
// tensors; petl writes each prefix tensor once, under the pool's key above, which adapters' loader
// fills every alias from. Files are written atomically. Reading checks every config field petl does not
// implement (PHM layers, gating, extra LayerNorms, invertible adapters, leave_out, ...) and every key
// and shape: errors name the file and the field or key.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "nn/bart.h"
#include "nn/gpt2.h"
#include "peft/bart_prefix.h"
#include "peft/bottleneck_adapter.h"
#include "peft/mam.h"
#include "peft/parallel_adapter.h"
#include "peft/prefix_tuning.h"

namespace petl::peft {

inline constexpr const char* kAdaptersVersion = "1.3.0";  // the adapters release the format was checked against

// What adapter_config.json says about the model besides the adapter config.
struct AdapterHubModel {
  std::string model_type;   // "gpt2" | "bart"
  std::string model_class;  // "GPT2LMHeadModel" | "BartForConditionalGeneration"
  int64_t hidden_size = 0;
  int64_t layers = 0, heads = 0;                    // GPT-2 n_layer / n_head; BART decoder_layers / heads
  int64_t encoder_layers = 0;                       // BART only
  std::string model_name;                           // the base model's name or path (informational)
};
AdapterHubModel adapterhub_model(const nn::Gpt2LMHead& model, const std::string& model_name = "");
AdapterHubModel adapterhub_model(const nn::BartForConditionalGeneration& model, const std::string& model_name = "");

void save_adapterhub(const BottleneckAdapters& adapters, const std::filesystem::path& dir, const AdapterHubModel& model,
                     const std::string& name);
void save_adapterhub(const ParallelAdapters& adapters, const std::filesystem::path& dir, const AdapterHubModel& model,
                     const std::string& name);
// GPT-2's prefix (AdapterHub's self_prefix); projected or flat (folded).
void save_adapterhub(const PrefixTuning& prefix, const std::filesystem::path& dir, const AdapterHubModel& model,
                     const std::string& name);
// BART's prefix in the paper's placement (encoder, self, cross networks); peft's placement has no AdapterHub form.
void save_adapterhub(const BartPrefixTuning& prefix, const std::filesystem::path& dir, const AdapterHubModel& model,
                     const std::string& name);
// MAM on GPT-2: prefix_tuning + parallel bottleneck, config "union".
void save_adapterhub(const Mam& mam, const std::filesystem::path& dir, const AdapterHubModel& model,
                     const std::string& name);

// A directory loaded onto a model: the method (BottleneckAdapters, ParallelAdapters, PrefixTuning,
// BartPrefixTuning or Mam), already attached with the file's tensors; the model is frozen.
struct LoadedAdapterHub {
  std::string name;
  std::shared_ptr<nn::Module> method;
};
LoadedAdapterHub load_adapterhub(nn::Gpt2LMHead& model, const std::filesystem::path& dir);
LoadedAdapterHub load_adapterhub(nn::BartForConditionalGeneration& model, const std::filesystem::path& dir);

}  // namespace petl::peft

// The Hugging Face `peft` adapter directory (shared/PEFT.md §14.1), for LoRA and (IA)^3:
//
//   adapter_config.json        the config dataclass as JSON, sorted keys, indent 2; always has
//                              peft_type, task_type, base_model_name_or_path, revision,
//                              inference_mode, peft_version. Readers ignore keys they do not know.
//   adapter_model.safetensors  metadata {"format": "pt"}; keys are the model's state-dict keys under
//                              "base_model.model." with the adapter name removed:
//     LoRA   base_model.model.<module>.lora_A.weight [r, in], ....lora_B.weight [out, r]
//     (IA)^3 base_model.model.<module>.ia3_l  [out, 1] (output scaling) or [1, in] (feedforward)
//
// Loading attaches a fresh method to `model` from the config, then fills its tensors; every tensor
// the method needs must be in the file with its shape, and the file may hold nothing else. Config
// features petl does not implement (DoRA, bias training, rank/alpha patterns, layer selection,
// modules_to_save, a regex target_modules) are errors naming the key, never silently ignored.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "peft/ia3.h"
#include "peft/lora.h"

namespace petl::peft {

inline constexpr const char* kPeftVersion = "0.21.2";  // the peft release the format was checked against

struct PeftSaveInfo {
  std::string base_model_name_or_path;
  std::string task_type = "CAUSAL_LM";  // "SEQ_2_SEQ_LM" for BART
};

void save_peft_lora(const Lora& lora, const std::filesystem::path& dir, const PeftSaveInfo& info = {});
std::unique_ptr<Lora> load_peft_lora(nn::Module& model, const nn::SiteMap& sites, const std::filesystem::path& dir);

void save_peft_ia3(const Ia3& ia3, const std::filesystem::path& dir, const PeftSaveInfo& info = {});
std::unique_ptr<Ia3> load_peft_ia3(nn::Module& model, const nn::SiteMap& sites, const std::filesystem::path& dir);

}  // namespace petl::peft

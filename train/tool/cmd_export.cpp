// train export: a trained run in Hugging Face formats (docs/train.md).
//   default   the method in its HF layout (peft adapter directory: LoRA, (IA)^3, prefix tuning with
//             the reparameterization MLP folded into the table R, prompt tuning; full model files for
//             full / ft-top-k / bitfit)
//             presets and spec strings: compose's format (petl_adapter.json + adapter_model.safetensors)
//   --merge   LoRA or (IA)^3 merged into the base weights: a plain GPT-2 model directory
//             (config.json, model.safetensors, tokenizer) that needs no adapter at all
#include <cstdio>
#include <filesystem>

#include "tensor/error.h"
#include "train/tool/commands.h"
#include "train/tool/finetune_model.h"
#include "train/tool/settings.h"

namespace petl::tool {

int run_export(std::span<const std::string> args) {
  const std::vector<SettingSpec> specs = {
      {"run", nullptr, "a `train finetune` run directory"},
      {"out", nullptr, "output directory"},
      {"merge", false, "merge LoRA / (IA)^3 into the base weights and write a whole model"},
  };
  const Settings s = Settings::parse("train export", specs, args);
  if (s.help_requested()) {
    std::fputs(Settings::usage("export", "Writes a trained run in Hugging Face formats.", specs).c_str(), stdout);
    return 0;
  }
  nlohmann::json config;
  FinetuneModel fm = load_finetune_run(s.text("run"), &config);
  const std::filesystem::path out = s.text("out");
  if (s.flag("merge")) {
    PETL_CHECK(fm.method->merge_into_base(), "train export --merge: method '", fm.method->name(),
               "' cannot be merged into the base weights (lora and ia3 can; export without --merge)");
    save_model_dir(fm.base, out);
    std::printf("export: %s merged into the base model: %s\n", fm.method->name().c_str(), out.string().c_str());
  } else {
    fm.method->save(out, base_model_dir(config).string());
    std::printf("export: %s adapter written to %s\n", fm.method->name().c_str(), out.string().c_str());
  }
  return 0;
}

}  // namespace petl::tool

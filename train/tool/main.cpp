// train: petl's training tool. `train` alone runs the embedded default job; `train COMMAND ...`
// runs a subcommand; `train --help` and `train COMMAND --help` describe them (docs/train.md).
#include <cstdio>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "tokenizer/error.h"
#include "train/tool/commands.h"

namespace {

const char* kUsage =
    "usage: train [COMMAND [--help] [--config FILE] [--name value ...]]\n"
    "  (no command)  the default job: prefix-tune the shipped small GPT-2 on the shipped E2E sample,\n"
    "                decode held-out MRs, print the E2E metrics and three outputs (needs nothing else)\n"
    "  pretrain      pretrain a GPT-2 causal LM from scratch on plain text (own BPE vocabulary or an existing one)\n"
    "  finetune      fine-tune a GPT-2 or BART on a task (e2e, webnlg, dart, xsum, jsonl) with a method (full, ft-top-k,\n"
    "                lora, prefix, prompt, bitfit, ia3, houlsby, pfeiffer, parallel, mam), a peft preset or a spec string\n"
    "                ('prefix:l=30@attn + parallel:r=512,s=4@ffn'); --resume continues a killed run\n"
    "  generate      decode a split with a trained run, one output per line\n"
    "  eval          decode and score with the task's official metrics\n"
    "  export        write a trained run in Hugging Face formats (--merge: LoRA / (IA)^3 merged into the base)\n"
    "Every command prints its settings with --help. See docs/train.md.\n";

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 1) return petl::tool::run_default_job();
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (command == "--help" || command == "-h" || command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "pretrain") return petl::tool::run_pretrain(args);
    if (command == "finetune") return petl::tool::run_finetune(args);
    if (command == "generate") return petl::tool::run_generate(args, false);
    if (command == "eval") return petl::tool::run_generate(args, true);
    if (command == "export") return petl::tool::run_export(args);
    std::fprintf(stderr, "train: unknown command '%s' (valid: pretrain, finetune, generate, eval, export; "
                 "no command runs the default job)\n", command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}

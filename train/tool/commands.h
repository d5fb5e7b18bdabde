// The subcommands of `train` (train/tool/main.cpp dispatches; docs/train.md describes each).
#pragma once
#include <span>
#include <string>

namespace petl::tool {

int run_pretrain(std::span<const std::string> args);
int run_finetune(std::span<const std::string> args);
int run_generate(std::span<const std::string> args, bool score);  // `generate` (score=false) and `eval`
int run_export(std::span<const std::string> args);
int run_default_job();

}  // namespace petl::tool

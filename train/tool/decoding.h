// Decoding settings shared by finetune, eval and generate, and the outputs file: one output per
// line, in the order of the inputs (the format the E2E, WebNLG and DART scorers read).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/generation_config.h"
#include "train/tool/settings.h"

namespace petl::tool {

// The settings: beams, max-new-tokens, min-new-tokens, length-penalty, no-repeat-ngram,
// decode-batch. Defaults are the prefix-tuning paper's table-to-text decoding (beam 5).
std::vector<SettingSpec> decoding_specs();
// The task's paper decoding where it differs from those defaults: XSum as He et al. decode BART-large
// (shared/PEFT.md §6.5, [UV] exps/run_xsum.sh: beam 6, min 10, max 60, no-repeat-ngram 3, length
// penalty 1.0). Settings given by flag or config file win.
nlohmann::json task_decoding_defaults(const std::string& task);
nn::GenerationConfig generation_request(const nlohmann::json& settings);

// A decoded text as one line of an outputs file: bytes that are not UTF-8 become U+FFFD (a
// byte-level model may emit any byte), newlines and tabs spaces, surrounding spaces trimmed.
std::string output_line(const std::string& bytes);

void write_outputs(const std::string& path, const std::vector<std::string>& outputs);

}  // namespace petl::tool

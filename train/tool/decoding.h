// Decoding settings shared by finetune, eval and generate, and the outputs file: one output per
// line, in the order of the inputs (the format the E2E, WebNLG and DART scorers read).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/generation_config.h"
#include "train/tool/settings.h"

namespace petl::tool {

// The settings: beams, max-new-tokens, length-penalty, no-repeat-ngram, decode-batch. Defaults are
// the prefix-tuning paper's table-to-text decoding (beam 5).
std::vector<SettingSpec> decoding_specs();
nn::GenerationConfig generation_request(const nlohmann::json& settings);

void write_outputs(const std::string& path, const std::vector<std::string>& outputs);

}  // namespace petl::tool

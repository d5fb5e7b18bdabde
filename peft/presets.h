// The methods of the papers as spec strings (peft/spec.h), each with its paper's default
// hyperparameters from shared/PEFT.md. A bare preset name is accepted wherever a spec is.
#pragma once
#include <string>
#include <vector>

namespace petl::peft {

struct Preset {
  std::string name;
  std::string spec;    // what it expands to
  std::string source;  // the paper / PEFT.md section the numbers come from
};

const std::vector<Preset>& presets();
std::vector<std::string> preset_names();
bool is_preset(const std::string& name);
// The spec string of a preset; an unknown name is an error listing the presets.
const std::string& preset_spec(const std::string& name);

}  // namespace petl::peft

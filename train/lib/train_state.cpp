#include "train/lib/train_state.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/safetensors.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::train {
namespace {

// The difference between two configs, one line per key.
std::string config_differences(const nlohmann::json& saved, const nlohmann::json& given) {
  std::string out;
  for (const auto& item : given.items()) {
    if (!saved.contains(item.key())) out += "\n  " + item.key() + ": not in the checkpoint, this run " + item.value().dump();
    else if (saved[item.key()] != item.value())
      out += "\n  " + item.key() + ": the checkpoint has " + saved[item.key()].dump() + ", this run " +
             item.value().dump();
  }
  for (const auto& item : saved.items())
    if (!given.contains(item.key())) out += "\n  " + item.key() + ": the checkpoint has " + item.value().dump() + ", this run none";
  return out;
}

void copy_into(const std::string& source, const std::string& key, const Tensor& target, const nn::TensorMap& tensors) {
  const auto it = tensors.find(key);
  PETL_CHECK(it != tensors.end(), source, ": the checkpoint lacks '", key, "'");
  PETL_CHECK(it->second.shape() == target.shape(), source, ": '", key, "' has shape ", shape_str(it->second.shape()),
             ", the model's parameter ", shape_str(target.shape()));
  NoGradGuard no_grad;
  kernel::copy_(target, it->second);
}

}  // namespace

void save_train_state(const std::filesystem::path& path, const NamedTensors& params, const nn::AdamW& optimizer,
                      const LoopCounters& counters, const nlohmann::json& config) {
  nn::TensorMap tensors;
  const auto& m = optimizer.first_moments();
  const auto& v = optimizer.second_moments();
  PETL_CHECK(m.size() == params.size(), "save_train_state: ", params.size(), " parameters but ", m.size(), " moments");
  for (size_t i = 0; i < params.size(); ++i) {
    tensors["param." + params[i].first] = params[i].second.detach();
    tensors["adam_m." + params[i].first] = m[i];
    tensors["adam_v." + params[i].first] = v[i];
  }
  nlohmann::json state = {{"step", counters.step},
                          {"adam_steps", optimizer.steps()},
                          {"epoch", counters.epoch},
                          {"next_batch", counters.next_batch},
                          {"best_step", counters.best_step},
                          {"evals_without_improvement", counters.evals_without_improvement}};
  state["best_metric"] = counters.best_metric ? nlohmann::json(*counters.best_metric) : nlohmann::json(nullptr);
  nn::save_safetensors(path, tensors,
                       {{"format", "pt"}, {"petl_train_state", state.dump()}, {"petl_train_config", config.dump()}});
}

LoopCounters load_train_state(const std::filesystem::path& path, const NamedTensors& params, nn::AdamW& optimizer,
                              const nlohmann::json& config) {
  std::map<std::string, std::string> metadata;
  const nn::TensorMap tensors = nn::load_safetensors(path, &metadata);
  const std::string source = path.string();
  PETL_CHECK(metadata.count("petl_train_state") && metadata.count("petl_train_config"), source,
             ": not a train checkpoint (no petl_train_state / petl_train_config metadata)");
  nlohmann::json state, saved_config;
  try {
    state = nlohmann::json::parse(metadata["petl_train_state"]);
    saved_config = nlohmann::json::parse(metadata["petl_train_config"]);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": damaged checkpoint metadata: " + e.what());
  }
  const std::string differences = config_differences(saved_config, config);
  PETL_CHECK(differences.empty(), source, ": the configuration of this run contradicts the checkpoint it resumes:",
             differences, "\n(resume with the checkpoint's settings, or start a new run directory)");
  std::vector<Tensor> m, v;
  for (const auto& [name, tensor] : params) {
    copy_into(source, "param." + name, tensor, tensors);
    for (const char* prefix : {"adam_m.", "adam_v."}) {
      const auto it = tensors.find(prefix + name);
      PETL_CHECK(it != tensors.end(), source, ": the checkpoint lacks '", prefix, name, "'");
      (prefix[5] == 'm' ? m : v).push_back(it->second);
    }
  }
  LoopCounters counters;
  try {
    optimizer.load_state(state.at("adam_steps").get<int64_t>(), m, v);
    counters.step = state.at("step").get<int64_t>();
    counters.epoch = state.at("epoch").get<int64_t>();
    counters.next_batch = state.at("next_batch").get<int64_t>();
    counters.best_step = state.at("best_step").get<int64_t>();
    counters.evals_without_improvement = state.at("evals_without_improvement").get<int64_t>();
    if (!state.at("best_metric").is_null()) counters.best_metric = state.at("best_metric").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": damaged checkpoint metadata: " + e.what());
  }
  return counters;
}

void save_parameters(const std::filesystem::path& path, const NamedTensors& params,
                     const std::map<std::string, std::string>& metadata) {
  nn::TensorMap tensors;
  for (const auto& [name, tensor] : params) tensors["param." + name] = tensor.detach();
  auto all = metadata;
  all["format"] = "pt";
  nn::save_safetensors(path, tensors, all);
}

void load_parameters(const std::filesystem::path& path, const NamedTensors& params) {
  const nn::TensorMap tensors = nn::load_safetensors(path);
  for (const auto& [name, tensor] : params) copy_into(path.string(), "param." + name, tensor, tensors);
}

}  // namespace petl::train

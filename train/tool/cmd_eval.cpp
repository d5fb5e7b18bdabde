// train generate / train eval: decode a split with a trained run (docs/train.md), write one output
// per line in input order (the official scorers' format); `eval` then scores them with the task's
// metrics (train/metrics) and writes the scores as JSON next to the outputs.
#include <cstdio>
#include <filesystem>

#include "nn/atomic_file.h"
#include "tensor/error.h"
#include "train/metrics/meteor.h"
#include "train/tool/commands.h"
#include "train/tool/decoding.h"
#include "train/tool/finetune_model.h"
#include "train/tool/lm_data.h"
#include "train/tool/settings.h"
#include "train/tool/tasks.h"

namespace petl::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<SettingSpec> eval_specs() {
  std::vector<SettingSpec> specs = {
      {"run", nullptr, "a `train finetune` run directory"},
      {"split", "dev", "dev | test: the task's file under the run's --data"},
      {"input", "", "decode this file instead (the task's format)"},
      {"outputs", "", "where the outputs go [RUN/outputs/<split>.txt]"},
      {"max-inputs", 0, "decode only the first N inputs (0: all)"},
      {"meteor-data", "", "METEOR data directory [$PETL_METEOR_DATA]"},
  };
  for (auto& s : decoding_specs()) specs.push_back(s);
  return specs;
}

}  // namespace

int run_generate(std::span<const std::string> args, bool score) {
  const auto specs = eval_specs();
  const std::string command = score ? "eval" : "generate";
  const Settings s = Settings::parse("train " + command, specs, args);
  if (s.help_requested()) {
    std::fputs(Settings::usage(command,
                               score ? "Decodes a split with a trained run and scores it with the task's metrics."
                                     : "Decodes a split with a trained run; one output per line.",
                               specs).c_str(),
               stdout);
    return 0;
  }
  const fs::path run = s.text("run");
  json config;
  FinetuneModel fm = load_finetune_run(run, &config);
  const std::string task = config.value("task", std::string("e2e"));
  const std::string split_name = s.text("split");
  std::string file = s.text("input");
  if (file.empty()) {
    const std::string data = config.value("data", std::string());
    file = task_split_file(task, data.empty() ? shared_data_dir() + "/" + task : data, split_name);
  }
  TaskSplit split = load_task_file(task, file);
  if (const int64_t n = s.integer("max-inputs", 0, INT64_MAX); n > 0 && size_t(n) < split.inputs.size()) {
    split.inputs.resize(size_t(n));
    split.references.resize(size_t(n));
  }
  json decoding = config;  // the run's decoding settings, overridden by this command's flags
  for (const auto& spec : decoding_specs())
    if (s.given(spec.name)) decoding[spec.name] = s.to_json()[spec.name];
  const auto outputs =
      decode_task_inputs(fm, split.inputs, generation_request(decoding), decoding.value("decode-batch", int64_t(16)), true);
  const std::string out_file =
      s.text("outputs").empty() ? (run / "outputs" / (s.text("input").empty() ? split_name + ".txt" : "input.txt")).string()
                                : s.text("outputs");
  if (fs::path(out_file).has_parent_path()) fs::create_directories(fs::path(out_file).parent_path());
  write_outputs(out_file, outputs);
  std::printf("%s: %zu outputs of %s written to %s\n", command.c_str(), outputs.size(), file.c_str(), out_file.c_str());
  if (!score) return 0;
  const std::string meteor = s.text("meteor-data").empty() ? metrics::meteor_data_dir_from_env().string() : s.text("meteor-data");
  const auto scores = score_task(task, outputs, split.references, meteor);
  std::printf("%s scores:", task.c_str());
  for (const auto& [k, v] : scores) std::printf("  %s %.4f", k.c_str(), v);
  if (task == "e2e" && !scores.count("meteor")) std::printf("  (METEOR skipped: no --meteor-data / PETL_METEOR_DATA)");
  std::printf("\n");
  nn::write_file_atomic(fs::path(out_file).replace_extension(".scores.json"),
                        json({{"input", file}, {"outputs", out_file}, {"scores", scores}}).dump(2) + "\n");
  return 0;
}

}  // namespace petl::tool

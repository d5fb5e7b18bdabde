// train finetune: a base GPT-2 or BART x a task x a method, preset or spec string (docs/train.md). The run directory receives
// config.json (the settings that reproduce the run: `train finetune --config RUN/config.json --out NEW`),
// log.jsonl, loss.svg / dev.svg, checkpoint.safetensors, best.safetensors, adapter/ (Hugging Face
// layout), outputs/dev.txt (decoded dev inputs) and scores.json.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/atomic_file.h"
#include "tensor/error.h"
#include "train/lib/progress.h"
#include "train/lib/trainer.h"
#include "train/tool/commands.h"
#include "train/tool/decoding.h"
#include "train/tool/finetune_model.h"
#include "train/tool/lm_data.h"
#include "train/tool/settings.h"
#include "train/metrics/meteor.h"
#include "train/tool/tasks.h"

namespace petl::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<SettingSpec> finetune_specs() {
  std::vector<SettingSpec> specs = {
      {"model", "", "base GPT-2 or BART directory [the repository's models/gpt2-petl-small]"},
      {"task", "e2e", "e2e | webnlg | dart | xsum | jsonl"},
      {"data", "", "the task's data directory [$PETL_DATA_DIR/<task>]"},
      {"train-file", "", "training file (overrides --data)"},
      {"dev-file", "", "dev file (overrides --data)"},
      {"method", "prefix", "full | ft-top-k | lora | prefix | prompt | bitfit | ia3 | houlsby | pfeiffer | parallel | mam, "
                           "a preset of peft/presets.h, or a spec string ('prefix:l=30@attn + parallel:r=512,s=4@ffn')"},
      {"method-options", json::object(), "JSON object overriding a method name's paper defaults on GPT-2 (train/lib/method.h)"},
      {"out", nullptr, "run directory"},
      {"epochs", 5, "epochs over the training pairs (when --steps is 0)"},
      {"steps", 0, "optimizer steps (0: from --epochs)"},
      {"batch", 10, "examples per micro-batch"},
      {"accum", 1, "micro-batches per optimizer step"},
      {"lr", nullptr, "peak learning rate [the method's paper value]"},
      {"warmup", 0, "linear warmup steps"},
      {"weight-decay", 0.0, "AdamW weight decay"},
      {"clip", 1.0, "gradient clipping norm (0: none)"},
      {"dropout", nullptr, "resid/embd/attn dropout [the model's config.json]"},
      {"seed", 0, "seed of the method's init, data order and dropout"},
      {"max-length", 256, "longest training sequence in tokens (GPT-2: longer pairs are left out and counted; BART: "
                         "sources are cut, longer targets left out); at most the model's positions less a prompt's rows"},
      {"max-train", 0, "use the first N training pairs (0: all)"},
      {"max-dev", 0, "use the first N distinct dev inputs (0: all)"},
      {"eval-every", 0, "evaluate on dev every N steps (0: only at the end)"},
      {"eval-metric", "dev_loss", "early stopping / best checkpoint metric: dev_loss, or a task metric (bleu, ...)"},
      {"patience", 0, "stop after N evaluations without improvement (0: never)"},
      {"save-every", 100, "checkpoint every N steps"},
      {"meteor-data", "", "METEOR data directory [$PETL_METEOR_DATA; METEOR skipped when neither is set]"},
      {"examples", 0, "print this many decoded dev outputs next to their inputs"},
      {"resume", false, "continue the run in --out from its checkpoint"},
  };
  for (auto& s : decoding_specs()) specs.push_back(s);
  return specs;
}

bool higher_is_better(const std::string& metric) { return metric != "dev_loss" && metric != "ter"; }

// Dev pairs restricted to the first `max_dev` distinct inputs.
TaskSplit first_inputs(TaskSplit split, int64_t max_dev) {
  if (max_dev <= 0 || size_t(max_dev) >= split.inputs.size()) return split;
  split.inputs.resize(size_t(max_dev));
  split.shown_inputs.resize(size_t(max_dev));
  split.references.resize(size_t(max_dev));
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < split.inputs.size(); ++i)
    for (const auto& r : split.references[i]) pairs.emplace_back(split.inputs[i], r);
  split.pairs = std::move(pairs);
  return split;
}

}  // namespace

int run_finetune(std::span<const std::string> args) {
  const auto specs = finetune_specs();
  Settings s = Settings::parse("train finetune", specs, args);
  if (s.help_requested()) {
    std::fputs(Settings::usage("finetune", "Fine-tunes a GPT-2 or BART model on a task with a PEFT method (docs/train.md).", specs)
                   .c_str(),
               stdout);
    return 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path out = s.text("out");
  const bool resume = s.flag("resume");
  const std::string task = s.text("task");
  const std::string data_dir = s.text("data").empty() ? shared_data_dir() + "/" + task : s.text("data");
  const std::string train_file = s.text("train-file").empty() ? task_split_file(task, data_dir, "train") : s.text("train-file");
  const std::string dev_file = s.text("dev-file").empty() ? task_split_file(task, data_dir, "dev") : s.text("dev-file");
  const std::string method_name = s.text("method");
  if (!s.has("lr")) s.set("lr", train::paper_learning_rate(method_name));
  const json task_decoding = task_decoding_defaults(task);
  for (const auto& item : task_decoding.items())
    if (!s.given(item.key())) s.set(item.key(), item.value());

  TaskSplit train_split = load_task_file(task, train_file);
  if (const int64_t n = s.integer("max-train", 0, INT64_MAX); n > 0 && size_t(n) < train_split.pairs.size())
    train_split.pairs.resize(size_t(n));
  const TaskSplit dev = first_inputs(load_task_file(task, dev_file), s.integer("max-dev", 0, INT64_MAX));

  json config = s.to_json();
  config.erase("resume");
  FinetuneModel fm = build_finetune_model(config);
  config["method-options"] = fm.method->options();  // the defaults filled in
  nn::Module& model = fm.base.module();
  // Prompt tuning puts P embedding rows in front of the tokens, and they take positions too.
  const int64_t max_length = sequence_limit(fm, s.integer("max-length", 4, 1 << 20));
  const EncodedPairs train_data = encode_task_pairs(fm, train_split.pairs, max_length);
  const EncodedPairs dev_data = encode_task_pairs(fm, dev.pairs, max_length);
  PETL_CHECK(!train_data.examples.empty(), "train finetune: no training pair fits in --max-length ", max_length);
  // Padding: GPT-2 pads with its eos (masked), BART with its pad token.
  const int64_t pad = fm.base.is_bart() ? fm.base.bart->pad_token_id() : fm.base.model->eos_token_id();

  const train::NamedTensors params = fm.method->trainable();
  const int64_t total_params = model.parameter_count() + fm.method->trainable_count() -
                               [&] { int64_t n = 0; for (auto& [k, t] : params) if (k.rfind("model.", 0) == 0) n += t.numel(); return n; }();
  std::printf("finetune: %s on %s (%zu training pairs%s, %zu dev inputs), method %s %s: %lld trainable parameters "
              "(%.3f%% of %lld)\n",
              fm.base.dir.string().c_str(), task.c_str(), train_data.examples.size(),
              train_data.dropped ? (", " + std::to_string(train_data.dropped) + " longer than --max-length left out").c_str() : "",
              dev.inputs.size(), method_name.c_str(), fm.method->options().dump().c_str(),
              (long long)fm.method->trainable_count(), 100.0 * double(fm.method->trainable_count()) / double(total_params),
              (long long)total_params);

  train::LoopOptions o;
  o.batch_size = s.integer("batch", 1, 1 << 20);
  o.grad_accum = s.integer("accum", 1, 1 << 20);
  const int64_t steps_per_epoch =
      std::max<int64_t>(1, (int64_t(train_data.examples.size()) + o.batch_size - 1) / o.batch_size / o.grad_accum);
  o.total_steps = s.integer("steps", 0, INT64_MAX) > 0 ? s.integer("steps", 0, INT64_MAX)
                                                       : s.integer("epochs", 1, 1 << 20) * steps_per_epoch;
  o.lr = s.number("lr", 0, 10);
  o.warmup_steps = s.integer("warmup", 0, INT64_MAX);
  o.weight_decay = s.number("weight-decay", 0, 10);
  o.max_grad_norm = s.number("clip", 0, 1e9);
  o.seed = uint64_t(s.integer("seed", 0, INT64_MAX));
  o.eval_every = s.integer("eval-every", 0, INT64_MAX);
  o.save_every = s.integer("save-every", 1, INT64_MAX);
  o.patience = s.integer("patience", 0, INT64_MAX);
  o.metric = s.text("eval-metric");
  o.higher_is_better = higher_is_better(o.metric);
  o.pad_id = pad;
  const nn::GenerationConfig request = generation_request(config);
  const int64_t decode_batch = s.integer("decode-batch", 1, 1 << 16);
  const std::string meteor_data = s.text("meteor-data").empty() ? metrics::meteor_data_dir_from_env().string() : s.text("meteor-data");

  fs::create_directories(out);
  if (!resume) {
    PETL_CHECK(!fs::exists(out / "checkpoint.safetensors"), "train finetune: ", out.string(),
               " already holds a run (checkpoint.safetensors); pass --resume to continue it or choose another --out");
    nn::write_file_atomic(out / "config.json", config.dump(2) + "\n");
  }

  const auto loss = [&](const train::Batch& batch, uint64_t dropout_seed) {
    (fm.base.is_bart() ? fm.base.bart->dropout_generator() : fm.base.model->dropout_generator()).manual_seed(dropout_seed);
    fm.method->reseed_dropout(dropout_seed);
    return finetune_loss(fm, batch);
  };
  const auto dev_loss = [&] {
    NoGradGuard no_grad;
    model.train(false);
    fm.method->train(false);  // the method's dropout too (its modules are not the model's children)
    double sum = 0;
    int64_t n = 0;
    for (size_t start = 0; start < dev_data.examples.size(); start += size_t(o.batch_size)) {
      std::vector<int64_t> idx;
      for (size_t i = start; i < std::min(dev_data.examples.size(), start + size_t(o.batch_size)); ++i) idx.push_back(int64_t(i));
      const train::Batch b = train::make_batch(dev_data.examples, idx, pad);
      sum += finetune_loss(fm, b).item() * double(idx.size());
      n += int64_t(idx.size());
    }
    model.train(true);
    fm.method->train(true);
    return n ? sum / double(n) : NAN;
  };
  const auto evaluate = [&](int64_t) {
    std::map<std::string, double> m{{"dev_loss", dev_loss()}};
    if (o.metric != "dev_loss") {
      const auto outputs = decode_task_inputs(fm, dev.inputs, request, decode_batch, false);
      for (const auto& [k, v] : score_task(task, outputs, dev.references, meteor_data)) m[k] = v;
    }
    return m;
  };
  const auto result = train::run_training(o, params, train_data.examples, loss, dev_data.examples.empty() ? train::EvalFn() : train::EvalFn(evaluate),
                                          out, resume, config);
  if (result.has_best) train::load_parameters(out / "best.safetensors", params);

  // ---- what the run keeps
  fm.method->save(out / "adapter", base_model_dir(config).string());
  const auto d0 = std::chrono::steady_clock::now();
  const auto outputs = decode_task_inputs(fm, dev.inputs, request, decode_batch, true);
  const double decode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count();
  fs::create_directories(out / "outputs");
  write_outputs((out / "outputs" / "dev.txt").string(), outputs);
  const auto scores = score_task(task, outputs, dev.references, meteor_data);
  json summary = {{"scores", scores},
                  {"dev_inputs", dev.inputs.size()},
                  {"steps", result.steps},
                  {"best_step", result.best_step},
                  {"final_train_loss", result.last_loss},
                  {"trainable_parameters", fm.method->trainable_count()},
                  {"trainable_percent", 100.0 * double(fm.method->trainable_count()) / double(total_params)},
                  {"decode_seconds", decode_seconds}};
  nn::write_file_atomic(out / "scores.json", summary.dump(2) + "\n");

  const int64_t examples = s.integer("examples", 0, 1 << 20);
  for (int64_t i = 0; i < examples && size_t(i) < outputs.size(); ++i)
    std::printf("\n  input:  %s\n  output: %s\n", dev.shown_inputs[size_t(i)].c_str(), outputs[size_t(i)].c_str());
  std::printf("\n%s scores on %zu dev inputs (%s):", task.c_str(), dev.inputs.size(), dev_file.c_str());
  for (const auto& [k, v] : scores) std::printf("  %s %.4f", k.c_str(), v);
  if (task == "e2e" && !scores.count("meteor")) std::printf("  (METEOR skipped: no --meteor-data / PETL_METEOR_DATA)");
  std::printf("\nfinetune: done in %s; run directory %s\n",
              train::format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()).c_str(),
              out.string().c_str());
  return 0;
}

}  // namespace petl::tool

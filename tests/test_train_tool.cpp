// The `train` tool end to end (built beside this test) and the training loop's parts: the schedule,
// bucketing, padding, plots; pretrain -> finetune -> eval -> export on a tiny model made here;
// kill-and-resume is bit-exact; bad input gives a clear error and a non-zero exit, and nothing is lost.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "nn/bart.h"
#include "nn/bart_checkpoint.h"
#include "nn/safetensors.h"
#include "support/temp_dir.h"
#include "support/train_process.h"
#include "support/tensor_helpers.h"
#include "train/lib/batching.h"
#include "train/lib/lr_schedule.h"
#include "train/lib/method.h"
#include "train/lib/svg_plot.h"

using namespace petl;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) { return fs::path("tests/fixtures/train") / name; }

using RunResult = testing::TrainResult;
using RunOptions = testing::TrainRunOptions;
using testing::check_same_tensors;
using testing::count_lines;
using testing::log_without_timing;

RunResult run_train(const std::vector<std::string>& args, const fs::path& capture, const RunOptions& options = {}) {
  return testing::run_train_process(args, capture, options);
}

std::string read_file(const fs::path& p) { return testing::read_whole_file(p); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A tiny GPT-2 (1 layer, d = 16, a 300-token vocabulary of our BPE trainer) pretrained on the fixture corpus.
fs::path tiny_model(const fs::path& dir) {
  const auto r = run_train({"pretrain", "--corpus", fixture("corpus.txt").string(), "--out", (dir / "pre").string(),
                            "--vocab-size", "300", "--layers", "1", "--dim", "16", "--heads", "2", "--context", "64",
                            "--batch", "4", "--steps", "20", "--eval-every", "10", "--eval-blocks", "4",
                            "--held-out-every", "5", "--lr", "3e-3", "--warmup", "2"},
                           dir / "pretrain.out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir / "pre" / "model";
}

// A tiny random BART (d = 16, one layer each side, 64 positions) with the 561-token BART
// vocabulary of the tokenizer fixture: enough to run every step of seq2seq fine-tuning.
fs::path tiny_bart(const fs::path& dir) {
  nn::BartConfig c;
  c.vocab_size = 561;
  c.d_model = 16;
  c.encoder_layers = c.decoder_layers = 1;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = c.decoder_ffn_dim = 32;
  c.max_position_embeddings = 64;
  c.dropout = 0.1;
  nn::BartForConditionalGeneration model(c, 7);
  const fs::path out = dir / "bart";
  nn::save_bart(model, out);
  for (const char* f : {"vocab.json", "merges.txt"})
    fs::copy_file(fs::path("tests/fixtures/model_tokenizer/bart_plain") / f, out / f);
  return out;
}

std::vector<std::string> finetune_args(const fs::path& model, const fs::path& out, const std::string& method) {
  return {"finetune", "--model", model.string(), "--task", "jsonl", "--train-file", fixture("train.jsonl").string(),
          "--dev-file", fixture("dev.jsonl").string(), "--method", method, "--steps", "24", "--batch", "4",
          "--accum", "2", "--lr", "1e-2", "--warmup", "3", "--dropout", "0.1", "--eval-every", "8",
          "--save-every", "3", "--beams", "2", "--max-new-tokens", "8", "--out", out.string()};
}

int64_t distinct_dev_sources() {
  std::set<std::string> sources;
  std::istringstream in(read_file(fixture("dev.jsonl")));
  std::string line;
  while (std::getline(in, line)) sources.insert(nlohmann::json::parse(line)["source"].get<std::string>());
  return int64_t(sources.size());
}

}  // namespace

TEST_CASE("train loop: linear warmup then linear decay to zero") {
  CHECK(train::linear_warmup_decay(1.0, 0, 4, 12) == 0.0);
  CHECK(train::linear_warmup_decay(1.0, 2, 4, 12) == 0.5);
  CHECK(train::linear_warmup_decay(1.0, 4, 4, 12) == 1.0);
  CHECK(train::linear_warmup_decay(1.0, 8, 4, 12) == 0.5);
  CHECK(train::linear_warmup_decay(1.0, 12, 4, 12) == 0.0);
  CHECK(train::linear_warmup_decay(2.0, 3, 0, 4) == 0.5);
}

TEST_CASE("train loop: an epoch's batches cover every example once, bucketed by length, reproducibly") {
  std::vector<train::Example> ex;
  for (int i = 0; i < 100; ++i) ex.push_back({std::vector<int64_t>(size_t(1 + (i * 37) % 50), 1), std::vector<int64_t>(size_t(1 + (i * 37) % 50), 1)});
  const auto a = train::epoch_batches(ex, 8, 4, 11, 0);
  CHECK(a == train::epoch_batches(ex, 8, 4, 11, 0));
  CHECK(a != train::epoch_batches(ex, 8, 4, 11, 1));
  std::multiset<int64_t> seen;
  for (const auto& b : a) seen.insert(b.begin(), b.end());
  CHECK(seen.size() == 100);
  CHECK(std::set<int64_t>(seen.begin(), seen.end()).size() == 100);
  // The share of padding: pools of 4 batches sorted by length pad far less than unsorted batches (pool of 1).
  const auto padding = [&](const std::vector<std::vector<int64_t>>& batches) {
    double padded = 0, tokens = 0;
    for (const auto& b : batches) {
      size_t longest = 0;
      for (int64_t i : b) longest = std::max(longest, ex[size_t(i)].ids.size());
      for (int64_t i : b) padded += double(longest), tokens += double(ex[size_t(i)].ids.size());
    }
    return (padded - tokens) / padded;
  };
  CHECK(padding(a) < 0.5 * padding(train::epoch_batches(ex, 8, 1, 11, 0)));
}

TEST_CASE("train loop: a batch is padded on the right to its longest example, labels -100 there") {
  std::vector<train::Example> ex = {{{5, 6, 7}, {-100, 6, 7}}, {{8}, {8}}};
  const auto b = train::make_batch(ex, {0, 1}, 99);
  CHECK(b.ids.to_vector() == std::vector<double>{5, 6, 7, 8, 99, 99});
  CHECK(b.labels.to_vector() == std::vector<double>{-100, 6, 7, 8, -100, -100});
  CHECK(b.mask.to_vector() == std::vector<double>{1, 1, 1, 1, 0, 0});
  CHECK(b.tokens == 4);
}

TEST_CASE("train loop: the SVG plot holds one polyline per series and escapes its labels") {
  const std::string svg = train::line_plot_svg("loss <train>", "step", "loss",
                                               {{"a", {{1, 2}, {2, 1}}}, {"b & c", {{1, 1}, {2, 3}}}});
  CHECK(contains(svg, "<svg"));
  CHECK(std::count(svg.begin(), svg.end(), 'p') > 0);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  CHECK(lines == 2);
  CHECK(contains(svg, "loss &lt;train&gt;"));
  CHECK(contains(svg, "b &amp; c"));
}

TEST_CASE("train: --help lists the subcommands and each has its own --help") {
  testing::TempDir dir("petl-train-help");
  const auto top = run_train({"--help"}, dir.path() / "o");
  CHECK(top.exit_code == 0);
  for (const char* c : {"pretrain", "finetune", "generate", "eval", "export"}) {
    CHECK(contains(top.output, c));
    const auto sub = run_train({c, "--help"}, dir.path() / "o");
    CHECK(sub.exit_code == 0);
    CHECK(contains(sub.output, std::string("usage: train ") + c));
  }
  const auto bad = run_train({"pretrian"}, dir.path() / "o");
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.output, "unknown command 'pretrian' (valid: pretrain, finetune, generate, eval, export"));
}

TEST_CASE("train: pretrain, finetune with three methods, eval and export on a tiny model") {
  testing::TempDir dir("petl-train-flow");
  const fs::path model = tiny_model(dir.path());
  for (const char* f : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) CHECK(fs::exists(model / f));
  CHECK(fs::exists(dir.path() / "pre" / "log.jsonl"));
  CHECK(fs::exists(dir.path() / "pre" / "loss.svg"));
  CHECK(fs::exists(dir.path() / "pre" / "dev.svg"));
  for (const char* method : {"lora", "prefix", "houlsby"}) {
    INFO(method);
    const fs::path run = dir.path() / method;
    const auto r = run_train(finetune_args(model, run, method), dir.path() / "ft.out");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    for (const char* f : {"config.json", "log.jsonl", "loss.svg", "dev.svg", "checkpoint.safetensors", "best.safetensors",
                          "scores.json", "outputs/dev.txt"})
      CHECK(fs::exists(run / f));
    CHECK(count_lines(run / "outputs" / "dev.txt") == distinct_dev_sources());
    const auto log = log_without_timing(run / "log.jsonl");
    CHECK(log.size() == 24 + 3);  // every step, and the evaluations at 8, 16, 24
    const auto ev = run_train({"eval", "--run", run.string(), "--input", fixture("dev.jsonl").string(), "--beams", "1"},
                              dir.path() / "ev.out");
    INFO(ev.output);
    CHECK(ev.exit_code == 0);
    CHECK(contains(ev.output, "jsonl scores:  bleu "));
  }
  CHECK(fs::exists(dir.path() / "lora" / "adapter" / "adapter_config.json"));
  CHECK(fs::exists(dir.path() / "lora" / "adapter" / "adapter_model.safetensors"));
  CHECK(fs::exists(dir.path() / "prefix" / "adapter" / "adapter_model.safetensors"));
  const auto merged = run_train({"export", "--run", (dir.path() / "lora").string(), "--out", (dir.path() / "merged").string(), "--merge"},
                                dir.path() / "ex.out");
  INFO(merged.output);
  CHECK(merged.exit_code == 0);
  CHECK(fs::exists(dir.path() / "merged" / "model.safetensors"));
  const auto refused = run_train({"export", "--run", (dir.path() / "prefix").string(), "--out", (dir.path() / "x").string(), "--merge"},
                                 dir.path() / "ex.out");
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.output, "method 'prefix' cannot be merged"));
}

TEST_CASE("train: a run SIGKILLed at several moments and resumed is bit-identical to an uninterrupted run") {
  testing::TempDir dir("petl-train-kill");
  const fs::path model = tiny_model(dir.path());
  const fs::path whole = dir.path() / "whole", killed = dir.path() / "killed";
  // Two threads: the kernels' parallel reductions must give the same sums in every run.
  RunOptions two_threads;
  two_threads.threads = "2";
  REQUIRE(run_train(finetune_args(model, whole, "lora"), dir.path() / "w.out", two_threads).exit_code == 0);
  // Killed after 5, then 13, then 22 log lines; each restart resumes from the last checkpoint.
  auto args = finetune_args(model, killed, "lora");
  RunOptions kill = two_threads;
  kill.kill_when_log = killed / "log.jsonl";
  int kills = 0;
  for (int64_t lines : {5, 13, 22}) {
    kill.kill_after_lines = lines;
    const auto r = run_train(args, dir.path() / "k.out", kill);
    kills += r.signal == SIGKILL;
    if (args.back() != "--resume") args.push_back("--resume");
  }
  CHECK(kills >= 2);  // (a fast machine may finish the last stretch before the kill lands)
  const auto last = run_train(args, dir.path() / "k.out", two_threads);
  INFO(last.output);
  REQUIRE(last.exit_code == 0);
  check_same_tensors(whole / "checkpoint.safetensors", killed / "checkpoint.safetensors");
  check_same_tensors(whole / "best.safetensors", killed / "best.safetensors");
  CHECK(log_without_timing(whole / "log.jsonl") == log_without_timing(killed / "log.jsonl"));
  CHECK(read_file(whole / "outputs" / "dev.txt") == read_file(killed / "outputs" / "dev.txt"));
}

TEST_CASE("train: bad input is a clear error with a non-zero exit") {
  testing::TempDir dir("petl-train-bad");
  const fs::path model = tiny_model(dir.path());
  const fs::path o = dir.path() / "o";
  SUBCASE("a malformed data row names the file and line") {
    auto args = finetune_args(model, dir.path() / "r", "lora");
    args[6] = fixture("malformed.jsonl").string();
    const auto r = run_train(args, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "malformed.jsonl:4"));
    CHECK(contains(r.output, "target"));
  }
  SUBCASE("an unknown task or method lists the valid ones") {
    auto args = finetune_args(model, dir.path() / "r", "lorra");
    auto r = run_train(args, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown method 'lorra' (valid: full, ft-top-k, lora, prefix, prompt, bitfit, ia3, houlsby, pfeiffer, parallel, mam)"));
    args = finetune_args(model, dir.path() / "r", "lora");
    args[4] = "e2f";
    r = run_train(args, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown task 'e2f' (valid: e2e, webnlg, dart, xsum, jsonl)"));
    args = finetune_args(model, dir.path() / "r", "lora");
    args.insert(args.end(), {"--method-options", R"({"rank": 8})"});
    r = run_train(args, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "method lora: unknown option 'rank' (valid: alpha, dropout, qkv_blocks, r, target_modules)"));
  }
  SUBCASE("a model directory missing a file names it") {
    fs::copy(model, dir.path() / "broken");
    fs::remove(dir.path() / "broken" / "merges.txt");
    const auto r = run_train(finetune_args(dir.path() / "broken", dir.path() / "r", "lora"), o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "lacks its tokenizer: vocab.json and merges.txt"));
    fs::remove(dir.path() / "broken" / "model.safetensors");
    CHECK(contains(run_train(finetune_args(dir.path() / "broken", dir.path() / "r", "lora"), o).output,
                   "lacks model.safetensors"));
  }
  SUBCASE("a config that contradicts the checkpoint is refused, and the run is untouched") {
    const fs::path run = dir.path() / "r";
    REQUIRE(run_train(finetune_args(model, run, "lora"), o).exit_code == 0);
    const std::string before = read_file(run / "checkpoint.safetensors");
    auto args = finetune_args(model, run, "lora");
    REQUIRE(args[17] == "--lr");
    args[18] = "2e-2";
    args.push_back("--resume");
    const auto r = run_train(args, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "contradicts the checkpoint"));
    CHECK(contains(r.output, "lr: the checkpoint has 0.01, this run 0.02"));
    CHECK(read_file(run / "checkpoint.safetensors") == before);
    // Starting a new run over it without --resume is refused too.
    const auto again = run_train(finetune_args(model, run, "lora"), o);
    CHECK(again.exit_code == 2);
    CHECK(contains(again.output, "already holds a run"));
  }
  SUBCASE("a disk full while saving keeps the previous checkpoint, and the run still completes bit-exactly") {
    const fs::path whole = dir.path() / "whole", run = dir.path() / "r";
    REQUIRE(run_train(finetune_args(model, whole, "full"), o).exit_code == 0);
    RunOptions kill;
    kill.kill_when_log = run / "log.jsonl";
    kill.kill_after_lines = 7;
    run_train(finetune_args(model, run, "full"), o, kill);
    REQUIRE(fs::exists(run / "checkpoint.safetensors"));
    const std::string before = read_file(run / "checkpoint.safetensors");
    auto args = finetune_args(model, run, "full");
    args.push_back("--resume");
    RunOptions full;
    full.file_size_limit = long(before.size() / 2);  // the log fits, a checkpoint does not
    const auto r = run_train(args, o, full);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(read_file(run / "checkpoint.safetensors") == before);
    for (const auto& e : fs::directory_iterator(run)) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
    const auto done = run_train(args, o);
    INFO(done.output);
    REQUIRE(done.exit_code == 0);
    check_same_tensors(whole / "checkpoint.safetensors", run / "checkpoint.safetensors");
    CHECK(log_without_timing(whole / "log.jsonl") == log_without_timing(run / "log.jsonl"));
  }
}

TEST_CASE("train: BART fine-tunes as seq2seq with a method name and a spec string, then eval and export") {
  testing::TempDir dir("petl-train-bart");
  const fs::path model = tiny_bart(dir.path());
  for (const std::string method : {"lora", "prefix:l=4,reparam=mlp,k=16@attn + parallel:r=8,s=4,init=lora,input=sublayer_in@ffn"}) {
    INFO(method);
    const fs::path run = dir.path() / (method == "lora" ? "lora" : "mam");
    const auto r = run_train(finetune_args(model, run, method), dir.path() / "ft.out");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "bart"));
    CHECK(count_lines(run / "outputs" / "dev.txt") == distinct_dev_sources());
    CHECK(log_without_timing(run / "log.jsonl").size() == 24 + 3);
    // Compose's own format: the spec and the tensors.
    CHECK(fs::exists(run / "adapter" / "petl_adapter.json"));
    CHECK(fs::exists(run / "adapter" / "adapter_model.safetensors"));
    const auto config = nlohmann::json::parse(read_file(run / "config.json"));
    CHECK(config["method"] == method);
    const auto ev = run_train({"eval", "--run", run.string(), "--input", fixture("dev.jsonl").string(), "--beams", "3"},
                              dir.path() / "ev.out");
    INFO(ev.output);
    CHECK(ev.exit_code == 0);
    CHECK(contains(ev.output, "jsonl scores:  bleu "));
    CHECK(count_lines(run / "outputs" / "input.txt") == distinct_dev_sources());
    const auto ex = run_train({"export", "--run", run.string(), "--out", (dir.path() / "export").string()}, dir.path() / "ex.out");
    CHECK(ex.exit_code == 0);
    CHECK(fs::exists(dir.path() / "export" / "petl_adapter.json"));
    fs::remove_all(dir.path() / "export");
  }
  // Training moved the decoder's loss: the last logged loss is below the first.
  const auto log = log_without_timing(dir.path() / "lora" / "log.jsonl");
  CHECK(log.back().contains("eval"));
  CHECK(log[23]["loss"].get<double>() < log[0]["loss"].get<double>());
}

TEST_CASE("train: presets and spec strings on GPT-2, a spec equal to the named LoRA trains the same losses") {
  testing::TempDir dir("petl-train-spec");
  const fs::path model = tiny_model(dir.path());
  const auto named = run_train(finetune_args(model, dir.path() / "named", "lora"), dir.path() / "n.out");
  REQUIRE(named.exit_code == 0);
  // The named LoRA: r=4, alpha=32, dropout 0.1 on the whole fused c_attn, seeded like entry 0 of a spec.
  const auto spec = run_train(finetune_args(model, dir.path() / "spec", "lora:r=4,alpha=32,dropout=0.1,rslora=false@qkv"),
                              dir.path() / "s.out");
  INFO(spec.output);
  REQUIRE(spec.exit_code == 0);
  auto a = log_without_timing(dir.path() / "named" / "log.jsonl"), b = log_without_timing(dir.path() / "spec" / "log.jsonl");
  CHECK(a == b);
  CHECK(read_file(dir.path() / "named" / "outputs" / "dev.txt") == read_file(dir.path() / "spec" / "outputs" / "dev.txt"));
  for (const char* method : {"scaled-parallel", "prompt:l=8@input + lora:r=2@o"}) {
    INFO(method);
    const fs::path run = dir.path() / (std::string(method).size() < 20 ? "preset" : "composed");
    const auto r = run_train(finetune_args(model, run, method), dir.path() / "p.out");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(fs::exists(run / "adapter" / "petl_adapter.json"));
    const auto ev = run_train({"eval", "--run", run.string(), "--input", fixture("dev.jsonl").string(), "--beams", "1"},
                              dir.path() / "ev.out");
    INFO(ev.output);
    CHECK(ev.exit_code == 0);
  }
}

TEST_CASE("train: prompt rows, source and new tokens stay within the model's positions") {
  testing::TempDir dir("petl-train-positions");
  const fs::path model = tiny_model(dir.path());  // 64 positions
  // 30 prompt rows + a source + up to 60 new tokens would pass 64: decoding caps the new tokens and
  // cuts long sources, training leaves out what does not fit; every run completes.
  auto args = finetune_args(model, dir.path() / "p", "prompt:l=30@input");
  args.insert(args.end(), {"--max-new-tokens", "60", "--steps", "4", "--eval-every", "2"});
  const auto r = run_train(args, dir.path() / "p.out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(dir.path() / "p" / "outputs" / "dev.txt") == distinct_dev_sources());
  // A prompt that leaves no room for the tokens is refused before training, naming the numbers.
  const auto refused = run_train(finetune_args(model, dir.path() / "q", "prompt:l=62@input"), dir.path() / "q.out");
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.output, "adds 62 positions, leaving 2 of the model's 64"));
}

TEST_CASE("train: an unknown method lists names and presets, an unsupported model type lists the supported") {
  testing::TempDir dir("petl-train-bad-models");
  const fs::path model = tiny_model(dir.path());
  auto r = run_train(finetune_args(model, dir.path() / "r", "lora:rank=4"), dir.path() / "o");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "unknown method 'lora:rank=4' (valid: full, ft-top-k, lora"));
  CHECK(contains(r.output, "presets: full, ft-top-2, bitfit"));
  CHECK(contains(r.output, "rank"));
  auto args = finetune_args(model, dir.path() / "r", "scaled-parallel");
  args.insert(args.end(), {"--method-options", R"({"r": 8})"});
  r = run_train(args, dir.path() / "o");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "give a preset's or spec's hyperparameters in the spec string"));
  fs::copy(model, dir.path() / "t5");
  auto config = nlohmann::json::parse(read_file(dir.path() / "t5" / "config.json"));
  config["model_type"] = "t5";
  std::ofstream(dir.path() / "t5" / "config.json") << config.dump();
  r = run_train(finetune_args(dir.path() / "t5", dir.path() / "r", "lora"), dir.path() / "o");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "config.json: model_type 't5' is not supported (supported: gpt2, bart)"));
  r = run_train(finetune_args(tiny_bart(dir.path()), dir.path() / "r", "ft-top-k"), dir.path() / "o");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "'ft-top-k' is defined for GPT-2's blocks only"));
}

TEST_CASE("train: every method name builds on BART through its spec, ft-top-k excepted") {
  nn::BartConfig c;
  c.vocab_size = 64;
  c.d_model = 16;
  c.encoder_layers = c.decoder_layers = 1;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = c.decoder_ffn_dim = 32;
  c.max_position_embeddings = 32;
  for (const auto& name : train::method_names()) {
    INFO(name);
    nn::BartForConditionalGeneration model(c, 3);
    if (name == "ft-top-k") {
      CHECK_THROWS_WITH(train::attach_method(name, nlohmann::json::object(), model, 1),
                        doctest::Contains("defined for GPT-2's blocks only"));
      continue;
    }
    const auto method = train::attach_method(name, nlohmann::json::object(), model, 1);
    CHECK(method->trainable_count() > 0);
    CHECK(method->options().contains("spec"));
    // The recorded options rebuild the same method (what eval and export do from config.json).
    nn::BartForConditionalGeneration again(c, 3);
    CHECK(train::attach_method(name, method->options(), again, 1)->trainable_count() == method->trainable_count());
  }
}

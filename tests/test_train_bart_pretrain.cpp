// `train pretrain --arch bart` end to end (the train tool built beside this test): a tiny BART
// trains on the fixture corpus and its held-out loss falls; its model directory loads back with
// nn/bart_checkpoint.h and tokenizer/model_dir.h with bart-large's special ids; a run SIGKILLed at
// several moments and resumed is bit-identical to an uninterrupted one; bad settings are clear errors.
// transformers' tokenizer ids on the same directory: tests/fixtures/bart_pretrain/hf_token_ids.json.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/bart_checkpoint.h"
#include "support/temp_dir.h"
#include "support/train_process.h"
#include "tokenizer/model_dir.h"

using namespace petl;
using testing::run_train_process;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A tiny BART (1 + 1 layers, d = 16, a 300-token vocabulary) on the fixture corpus, with dropout so
// that resuming must also restore the dropout masks.
std::vector<std::string> bart_args(const fs::path& out) {
  return {"pretrain", "--arch", "bart", "--corpus", "tests/fixtures/train/corpus.txt", "--out", out.string(),
          "--vocab-size", "300", "--encoder-layers", "1", "--decoder-layers", "1", "--dim", "16", "--heads", "2",
          "--context", "64", "--batch", "4", "--steps", "24", "--eval-every", "8", "--eval-blocks", "6",
          "--held-out-every", "5", "--lr", "3e-3", "--warmup", "2", "--dropout", "0.1", "--save-every", "3"};
}

double eval_loss_at(const std::vector<nlohmann::json>& log, int64_t step) {
  for (const auto& r : log)
    if (r["step"] == step && r.contains("eval")) return r["eval"]["dev_loss"].get<double>();
  FAIL("no evaluation at step " << step);
  return NAN;
}

}  // namespace

TEST_CASE("train pretrain --arch bart: a tiny BART trains, its held-out loss falls, and its directory loads back") {
  testing::TempDir dir("petl-bart-pretrain");
  const fs::path run = dir.path() / "run";
  const auto r = run_train_process(bart_args(run), dir.path() / "out.txt");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "sentence permutation on"));
  for (const char* f : {"config.json", "log.jsonl", "loss.svg", "dev.svg", "checkpoint.safetensors", "best.safetensors",
                        "summary.json", "tokenizer/vocab.json", "model/config.json", "model/model.safetensors",
                        "model/vocab.json", "model/merges.txt", "model/tokenizer_config.json"})
    CHECK(fs::exists(run / f));

  const auto log = testing::log_without_timing(run / "log.jsonl");
  CHECK(log.size() == 24 + 3);  // every step, and the evaluations at 8, 16, 24
  const double at8 = eval_loss_at(log, 8), at24 = eval_loss_at(log, 24);
  MESSAGE("held-out loss: step 8 " << at8 << ", step 24 " << at24 << "; training loss step 1 " << log[0]["loss"]);
  CHECK(at24 < at8 - 0.1);
  CHECK(at8 < log[0]["loss"].get<double>());

  // The model directory: transformers' BartConfig with bart-large's special ids.
  const auto model = nn::load_bart(run / "model");
  const nn::BartConfig& c = model->config();
  CHECK(c.vocab_size == 300);
  CHECK(c.d_model == 16);
  CHECK(c.encoder_layers == 1);
  CHECK(c.decoder_layers == 1);
  CHECK(c.encoder_ffn_dim == 64);
  CHECK(c.max_position_embeddings == 64);
  CHECK(c.bos_token_id == 0);
  CHECK(c.pad_token_id == 1);
  CHECK(c.eos_token_id == 2);
  CHECK(c.decoder_start_token_id == 2);
  // Its weights are the best evaluation's (step 24 here: the held-out loss fell at every evaluation).
  const auto best = nn::load_safetensors(run / "best.safetensors");
  int64_t compared = 0;
  for (const auto& entry : model->named_parameters()) {
    const std::string& name = entry.first;  // (a plain reference: clang 14's INFO cannot capture a binding)
    const Tensor& t = entry.second;
    if (!t.requires_grad()) continue;
    INFO(name);
    REQUIRE(best.count("param.model." + name));
    CHECK(t.to_vector() == best.at("param.model." + name).to_vector());
    ++compared;
  }
  CHECK(compared == int64_t(best.size()));

  // The tokenizer: <s> 0, <pad> 1, </s> 2, <unk> 3, <mask> last and taking the space before it.
  const auto tok = tokenizer::ModelTokenizer::load(run / "model");
  CHECK(tok.family() == tokenizer::TokenizerFamily::Bart);
  CHECK(tok.vocab_size() == 300);
  const auto& ids = tok.special_ids();
  CHECK(*ids.bos == 0);
  CHECK(*ids.pad == 1);
  CHECK(*ids.eos == 2);
  CHECK(*ids.unk == 3);
  CHECK(*ids.mask == 299);
  // transformers' AutoTokenizer on this same directory gives the same ids (tools/oracle/
  // bart_pretrain_check.py --write-fixture: the vocabulary depends only on the corpus and
  // --vocab-size, so the fixture's run and this one learn the same one).
  const auto fixture = nlohmann::json::parse(testing::read_whole_file("tests/fixtures/bart_pretrain/hf_token_ids.json"));
  REQUIRE(fixture["vocab_size"] == 300);
  for (const auto& item : fixture["input_ids"].items()) {
    const std::string text = item.key();
    INFO(text);
    const auto petl_ids = tok.encode_source(text);
    CHECK(std::vector<int64_t>(petl_ids.begin(), petl_ids.end()) == item.value().get<std::vector<int64_t>>());
  }
  CHECK(fixture["input_ids"].size() == 9);

  const auto framed = tok.encode_source("It was <mask> night.");
  REQUIRE(framed.size() >= 4);
  CHECK(framed.front() == 0);
  CHECK(framed.back() == 2);
  const auto mask_at = std::find(framed.begin(), framed.end(), 299);
  REQUIRE(mask_at != framed.end());
  const std::vector<tokenizer::TokenId> before(framed.begin() + 1, mask_at);
  CHECK(tok.decode(before) == "It was");

  // It runs: a denoising step's loss on the loaded model is finite and below ln V (untrained).
  NoGradGuard no_grad;
  model->train(false);
  std::vector<int64_t> source, labels;
  for (auto id : tok.encode_source("It was <mask> night.")) source.push_back(id);
  for (auto id : tok.encode_source("It was a dark night.")) labels.push_back(id);
  const Tensor label_tensor = from_vector(labels, {1, int64_t(labels.size())});
  const Tensor logits = model->forward(from_vector(source, {1, int64_t(source.size())}), Tensor(),
                                       model->shift_tokens_right(label_tensor));
  const double loss = model->loss(logits, label_tensor).item();
  MESSAGE("loaded model's loss on one denoising pair: " << loss << " (ln V = " << std::log(300.0) << ")");
  CHECK(std::isfinite(loss));
  CHECK(loss < std::log(300.0));
}

TEST_CASE("train pretrain --arch bart: a run SIGKILLed at several moments and resumed is bit-identical") {
  testing::TempDir dir("petl-bart-pretrain-kill");
  const fs::path whole = dir.path() / "whole", killed = dir.path() / "killed";
  const auto w = run_train_process(bart_args(whole), dir.path() / "w.txt");
  INFO(w.output);
  REQUIRE(w.exit_code == 0);
  auto args = bart_args(killed);
  testing::TrainRunOptions kill;
  kill.kill_when_log = killed / "log.jsonl";
  int kills = 0;
  for (int64_t lines : {5, 13, 22}) {
    kill.kill_after_lines = lines;
    const auto r = run_train_process(args, dir.path() / "k.txt", kill);
    kills += r.signal == SIGKILL;
    if (args.back() != "--resume") args.push_back("--resume");
  }
  CHECK(kills >= 2);  // (a fast machine may finish the last stretch before the kill lands)
  const auto last = run_train_process(args, dir.path() / "k.txt");
  INFO(last.output);
  REQUIRE(last.exit_code == 0);
  testing::check_same_tensors(whole / "checkpoint.safetensors", killed / "checkpoint.safetensors");
  testing::check_same_tensors(whole / "best.safetensors", killed / "best.safetensors");
  testing::check_same_tensors(whole / "model" / "model.safetensors", killed / "model" / "model.safetensors");
  CHECK(testing::log_without_timing(whole / "log.jsonl") == testing::log_without_timing(killed / "log.jsonl"));
  CHECK(testing::read_whole_file(whole / "tokenizer" / "vocab.json") ==
        testing::read_whole_file(killed / "tokenizer" / "vocab.json"));
}

TEST_CASE("train pretrain: a bad --arch or a setting of the other architecture is a clear error") {
  testing::TempDir dir("petl-bart-pretrain-bad");
  const fs::path out = dir.path() / "o.txt";
  auto args = bart_args(dir.path() / "run");
  SUBCASE("an unknown architecture lists the valid ones") {
    args[2] = "t5";
    const auto r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown --arch 't5' (valid: gpt2, bart)"));
  }
  SUBCASE("a BART setting given to GPT-2, and a GPT-2 one to BART") {
    args[2] = "gpt2";
    auto r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--encoder-layers applies to --arch bart only"));
    args = bart_args(dir.path() / "run");
    args.insert(args.end(), {"--layers", "2"});
    r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--layers applies to --arch gpt2 only"));
  }
  SUBCASE("a GPT-2 tokenizer, too small a vocabulary, too few positions") {
    args.insert(args.end(), {"--tokenizer", "models/gpt2-petl-small"});
    auto r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "is a GPT-2 one; BART needs a BART tokenizer"));
    args = bart_args(dir.path() / "run2");
    args[8] = "260";
    r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--vocab-size expects an integer in [261, "));
    args = bart_args(dir.path() / "run3");
    args.insert(args.end(), {"--max-positions", "32"});
    r = run_train_process(args, out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--max-positions 32 is below --context 64"));
  }
}

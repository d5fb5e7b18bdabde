// train pretrain: a GPT-2 causal LM from scratch on plain text (docs/train.md).
//   corpus  -> (BPE vocabulary by tokenizer/bpe_trainer.h, or an existing one) -> one token stream,
//   books separated by eos -> blocks of `context` tokens; every held-out-every-th block is held out
//   -> the training loop (train/lib/trainer.h) on loss = mean next-token cross-entropy
//   -> out/model: config.json, model.safetensors, vocab.json, merges.txt (the best held-out loss).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/atomic_file.h"
#include "tensor/error.h"
#include "tokenizer/bpe_trainer.h"
#include "train/data/gutenberg.h"
#include "train/data/text_file.h"
#include "train/lib/progress.h"
#include "train/lib/trainer.h"
#include "train/tool/commands.h"
#include "train/tool/model_io.h"
#include "train/tool/settings.h"

namespace petl::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<SettingSpec>& pretrain_specs() {
  static const std::vector<SettingSpec> specs = {
      {"corpus", "", "a text file or a directory of .txt files (Gutenberg headers are stripped) [$PETL_DATA_DIR/corpus/gutenberg]"},
      {"out", nullptr, "output directory (run files; the model goes to OUT/model)"},
      {"tokenizer", "", "use this directory's vocab.json + merges.txt instead of training a vocabulary"},
      {"vocab-size", 4096, "BPE vocabulary size (256 bytes + merges + <|endoftext|>)"},
      {"bpe-sample-mb", 4, "MB of the corpus (an equal share of each file) the BPE trainer reads"},
      {"max-corpus-mb", 0, "use at most this many MB of text (0: all)"},
      {"layers", 4, "transformer blocks"},
      {"dim", 256, "model width n_embd"},
      {"heads", 4, "attention heads"},
      {"context", 128, "tokens per training block (= n_positions)"},
      {"batch", 16, "blocks per micro-batch"},
      {"accum", 1, "micro-batches per optimizer step"},
      {"steps", 2000, "optimizer steps"},
      {"lr", 1e-3, "peak learning rate (AdamW)"},
      {"warmup", 100, "linear warmup steps"},
      {"weight-decay", 0.01, "AdamW weight decay"},
      {"clip", 1.0, "gradient clipping norm (0: none)"},
      {"dropout", 0.0, "resid/embd/attn dropout"},
      {"seed", 0, "seed of init, data order and dropout"},
      {"held-out-every", 50, "every N-th block is held out"},
      {"eval-every", 200, "evaluate the held-out loss every N steps"},
      {"eval-blocks", 64, "held-out blocks per evaluation"},
      {"save-every", 50, "checkpoint every N steps"},
      {"resume", false, "continue OUT's run from its checkpoint"},
  };
  return specs;
}

std::vector<fs::path> corpus_files(const fs::path& corpus) {
  PETL_CHECK(fs::exists(corpus), "pretrain: corpus ", corpus.string(), " does not exist");
  if (!fs::is_directory(corpus)) return {corpus};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus))
    if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  PETL_CHECK(!files.empty(), "pretrain: no .txt files in ", corpus.string());
  return files;
}

std::string read_corpus_text(const fs::path& file) {
  std::string head = data::read_text_file(file.string());
  bool gutenberg = false;
  size_t pos = 0;
  for (int lines = 0; lines < 400 && pos < head.size(); ++lines) {
    const size_t end = head.find('\n', pos);
    if (data::is_gutenberg_start_marker(std::string_view(head).substr(pos, end == std::string::npos ? std::string::npos : end - pos))) {
      gutenberg = true;
      break;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return gutenberg ? data::read_gutenberg_body(file.string()) : head;
}

// The first `bytes` of `text`, cut after a newline (so never inside a UTF-8 character).
std::string_view prefix_at_line(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  const size_t cut = text.rfind('\n', bytes);
  return std::string_view(text).substr(0, cut == std::string::npos ? 0 : cut + 1);
}

}  // namespace

int run_pretrain(std::span<const std::string> args) {
  const auto& specs = pretrain_specs();
  Settings s = Settings::parse("train pretrain", specs, args);
  if (s.help_requested()) {
    std::fputs(Settings::usage("pretrain",
                               "Pretrains a GPT-2 causal language model from scratch on plain text (docs/train.md).",
                               specs).c_str(), stdout);
    return 0;
  }
  const fs::path out = s.text("out");
  const bool resume = s.flag("resume");
  const fs::path corpus = s.text("corpus").empty() ? fs::path(shared_data_dir()) / "corpus" / "gutenberg" : fs::path(s.text("corpus"));
  const auto t0 = std::chrono::steady_clock::now();

  // ---- the text
  std::vector<std::string> texts;
  size_t total = 0;
  const size_t limit = size_t(s.integer("max-corpus-mb", 0, 1 << 20)) << 20;
  for (const auto& f : corpus_files(corpus)) {
    if (limit && total >= limit) break;
    texts.push_back(read_corpus_text(f));
    if (limit && total + texts.back().size() > limit) texts.back() = std::string(prefix_at_line(texts.back(), limit - total));
    total += texts.back().size();
  }
  std::printf("pretrain: corpus %s: %zu files, %.1f MB\n", corpus.string().c_str(), texts.size(), double(total) / 1e6);

  // ---- the vocabulary
  fs::create_directories(out);
  const fs::path tok_dir = out / "tokenizer";
  std::shared_ptr<tokenizer::ModelTokenizer> tok;
  if (!s.text("tokenizer").empty()) {
    tok = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(s.text("tokenizer")));
  } else if (resume && fs::exists(tok_dir / "vocab.json")) {
    tok = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(tok_dir));
  } else {
    const size_t sample = size_t(s.integer("bpe-sample-mb", 1, 1 << 20)) << 20;
    std::vector<std::string_view> parts;
    for (const auto& t : texts) parts.push_back(prefix_at_line(t, sample / texts.size()));
    tokenizer::TrainerOptions bpe;
    bpe.vocab_size = size_t(s.integer("vocab-size", 257, 1 << 20));
    const auto b0 = std::chrono::steady_clock::now();
    auto model = tokenizer::train_bpe(parts, bpe);
    tok = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::from_bpe(
        tokenizer::Tokenizer::from_model(model), tokenizer::TokenizerFamily::Gpt2));
    tok->save(tok_dir);
    std::printf("pretrain: BPE vocabulary of %zu tokens learned in %.1f s\n", tok->vocab_size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count());
  }
  const int64_t eos = int64_t(tok->bpe().end_of_text_id());

  // ---- blocks
  const int64_t context = s.integer("context", 8, 1 << 16);
  const int64_t held_every = s.integer("held-out-every", 2, 1 << 30);
  std::vector<train::Example> train_blocks, dev_blocks;
  std::vector<int64_t> stream;
  for (const auto& t : texts) {
    for (auto id : tok->encode(t)) stream.push_back(id);
    stream.push_back(eos);
  }
  for (size_t start = 0, n = 0; start + size_t(context) <= stream.size(); start += size_t(context), ++n) {
    train::Example ex;
    ex.ids.assign(stream.begin() + std::ptrdiff_t(start), stream.begin() + std::ptrdiff_t(start + size_t(context)));
    ex.labels = ex.ids;
    (n % size_t(held_every) == size_t(held_every - 1) ? dev_blocks : train_blocks).push_back(std::move(ex));
  }
  PETL_CHECK(!train_blocks.empty() && !dev_blocks.empty(), "pretrain: the corpus gives ", stream.size(),
             " tokens, too few for blocks of ", context);
  std::printf("pretrain: %zu tokens -> %zu training blocks, %zu held-out blocks of %lld tokens\n", stream.size(),
              train_blocks.size(), dev_blocks.size(), (long long)context);

  // ---- the model
  nn::Gpt2Config config;
  config.vocab_size = int64_t(tok->vocab_size());
  config.n_positions = context;
  config.n_embd = s.integer("dim", 8, 1 << 16);
  config.n_layer = s.integer("layers", 1, 1024);
  config.n_head = s.integer("heads", 1, 1024);
  config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = s.number("dropout", 0, 0.99);
  config.bos_token_id = config.eos_token_id = eos;
  config.validate("train pretrain settings");
  const uint64_t seed = uint64_t(s.integer("seed", 0, INT64_MAX));
  nn::Gpt2LMHead model(config, seed);
  train::NamedTensors params;
  for (auto& [name, t] : model.named_parameters()) params.emplace_back("model." + name, t);
  int64_t count = 0;
  for (const auto& p : params) count += p.second.numel();
  std::printf("pretrain: GPT-2 %lld layers, d=%lld, %lld heads, context %lld, vocabulary %lld: %.2fM parameters\n",
              (long long)config.n_layer, (long long)config.n_embd, (long long)config.n_head, (long long)context,
              (long long)config.vocab_size, double(count) / 1e6);

  train::LoopOptions o;
  o.total_steps = s.integer("steps", 1, INT64_MAX);
  o.batch_size = s.integer("batch", 1, 1 << 20);
  o.grad_accum = s.integer("accum", 1, 1 << 20);
  o.lr = s.number("lr", 0, 10);
  o.warmup_steps = s.integer("warmup", 0, INT64_MAX);
  o.weight_decay = s.number("weight-decay", 0, 10);
  o.max_grad_norm = s.number("clip", 0, 1e9);
  o.seed = seed;
  o.eval_every = s.integer("eval-every", 0, INT64_MAX);
  o.save_every = s.integer("save-every", 1, INT64_MAX);
  o.metric = "dev_loss";
  o.pad_id = eos;
  const int64_t eval_blocks = std::min<int64_t>(s.integer("eval-blocks", 1, 1 << 30), int64_t(dev_blocks.size()));

  json config_json = s.to_json();
  config_json.erase("resume");
  if (!resume) nn::write_file_atomic(out / "config.json", config_json.dump(2) + "\n");

  const auto loss = [&](const train::Batch& batch, uint64_t dropout_seed) {
    model.dropout_generator().manual_seed(dropout_seed);
    return model.loss(model.forward(batch.ids), batch.labels);
  };
  const auto evaluate = [&](int64_t) {
    NoGradGuard no_grad;
    model.train(false);
    double sum = 0;
    int64_t batches = 0;
    for (int64_t start = 0; start < eval_blocks; start += o.batch_size, ++batches) {
      std::vector<int64_t> idx;
      for (int64_t i = start; i < std::min(eval_blocks, start + o.batch_size); ++i) idx.push_back(i);
      const train::Batch b = train::make_batch(dev_blocks, idx, eos);
      sum += model.loss(model.forward(b.ids), b.labels).item() * double(idx.size());
    }
    model.train(true);
    const double mean = sum / double(eval_blocks);
    return std::map<std::string, double>{{"dev_loss", mean}, {"dev_ppl", std::exp(mean)}};
  };
  const auto result = train::run_training(o, params, train_blocks, loss, evaluate, out, resume, config_json);
  if (result.has_best) train::load_parameters(out / "best.safetensors", params);
  save_model_dir(model, *tok, out / "model");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json summary = {{"final_train_loss", result.last_loss},
                        {"best_dev_loss", result.best_metric ? *result.best_metric : NAN},
                        {"best_dev_ppl", result.best_metric ? std::exp(*result.best_metric) : NAN},
                        {"best_step", result.best_step},
                        {"steps", result.steps},
                        {"parameters", count},
                        {"train_tokens", int64_t(train_blocks.size()) * context},
                        {"seconds_this_invocation", seconds}};
  nn::write_file_atomic(out / "summary.json", summary.dump(2) + "\n");
  std::printf("pretrain: done in %s: final train loss %.4f, best held-out loss %.4f (perplexity %.2f) at step %lld; "
              "model in %s\n",
              train::format_duration(seconds).c_str(), result.last_loss, result.best_metric.value_or(NAN),
              std::exp(result.best_metric.value_or(NAN)), (long long)result.best_step, (out / "model").string().c_str());
  return 0;
}

}  // namespace petl::tool

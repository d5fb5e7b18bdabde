// train pretrain: a model from scratch on plain text (docs/train.md), either
//   --arch gpt2: a causal LM.
//     corpus -> (BPE vocabulary by tokenizer/bpe_trainer.h, or an existing one) -> one token stream,
//     books separated by eos -> blocks of `context` tokens; every held-out-every-th block is held out
//     -> the training loop (train/lib/trainer.h) on loss = mean next-token cross-entropy
//   --arch bart: a denoising autoencoder (BART, Lewis et al. 2020).
//     corpus -> vocabulary (bart-large's special tokens) -> blocks <s> body </s> per book
//     -> the same loop on loss = mean cross-entropy of the original block given its noised copy
//        (sentence permutation + text infilling, train/data/denoising.h; train/tool/bart_pretrain.h)
//   -> out/model: config.json, model.safetensors, vocab.json, merges.txt, tokenizer_config.json
//      (the parameters with the best held-out loss).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/atomic_file.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tokenizer/bpe_trainer.h"
#include "train/data/gutenberg.h"
#include "train/data/text_file.h"
#include "train/lib/progress.h"
#include "train/lib/trainer.h"
#include "train/tool/bart_pretrain.h"
#include "train/tool/commands.h"
#include "train/tool/model_io.h"
#include "train/tool/settings.h"

namespace petl::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<SettingSpec>& pretrain_specs() {
  static const std::vector<SettingSpec> specs = {
      {"arch", "gpt2", "the model: gpt2 (causal LM) or bart (denoising sequence-to-sequence)"},
      {"corpus", "", "a text file or a directory of .txt files (Gutenberg headers are stripped) [$PETL_DATA_DIR/corpus/gutenberg]"},
      {"out", nullptr, "output directory (run files; the model goes to OUT/model)"},
      {"tokenizer", "", "use this directory's vocab.json + merges.txt instead of training a vocabulary"},
      {"vocab-size", 4096, "BPE vocabulary size (256 bytes + merges + <|endoftext|>; bart: + <s> <pad> </s> <unk>, <mask> instead)"},
      {"bpe-sample-mb", 4, "MB of the corpus (an equal share of each file) the BPE trainer reads"},
      {"max-corpus-mb", 0, "use at most this many MB of text (0: all)"},
      {"layers", 4, "transformer blocks (gpt2)"},
      {"encoder-layers", 2, "encoder layers (bart)"},
      {"decoder-layers", 2, "decoder layers (bart)"},
      {"dim", 256, "model width (gpt2 n_embd, bart d_model)"},
      {"heads", 4, "attention heads (bart: of every attention)"},
      {"ffn", 0, "feed-forward width (bart; 0: 4 x dim)"},
      {"context", 128, "tokens per training block (gpt2: = n_positions; bart: with its <s> and </s>)"},
      {"max-positions", 0, "learned positions (bart max_position_embeddings; 0: = context)"},
      {"mask-ratio", 0.3, "fraction of a block's tokens infilled (bart)"},
      {"poisson-lambda", 3.0, "mean length of an infilled span, Poisson(lambda) (bart)"},
      {"no-permute", false, "do not permute the sentences of a block (bart)"},
      {"batch", 16, "blocks per micro-batch"},
      {"accum", 1, "micro-batches per optimizer step"},
      {"steps", 2000, "optimizer steps"},
      {"lr", 1e-3, "peak learning rate (AdamW)"},
      {"warmup", 100, "linear warmup steps"},
      {"weight-decay", 0.01, "AdamW weight decay"},
      {"clip", 1.0, "gradient clipping norm (0: none)"},
      {"dropout", 0.0, "dropout (gpt2: resid/embd/attn; bart: dropout, with attention/activation dropout 0)"},
      {"seed", 0, "seed of init, data order, dropout and (bart) noise"},
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

// Settings only one architecture reads: giving one to the other is an error, and they are left
// out of its config.json (so a GPT-2 run's config.json is what it was before --arch existed).
const std::vector<std::string> kGpt2Only = {"layers"};
const std::vector<std::string> kBartOnly = {"encoder-layers", "decoder-layers", "ffn", "max-positions",
                                            "mask-ratio", "poisson-lambda", "no-permute"};

json run_config(const Settings& s, const std::string& arch) {
  json config = s.to_json();
  config.erase("resume");
  for (const auto& key : arch == "gpt2" ? kBartOnly : kGpt2Only) config.erase(key);
  if (arch == "gpt2") config.erase("arch");
  return config;
}

std::vector<std::string> read_texts(const Settings& s, const fs::path& corpus) {
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
  return texts;
}

// A BPE model learned from an equal share of each text (`vocab_size` entries with <|endoftext|>).
tokenizer::BpeModel learn_bpe(const Settings& s, const std::vector<std::string>& texts, size_t vocab_size) {
  const size_t sample = size_t(s.integer("bpe-sample-mb", 1, 1 << 20)) << 20;
  std::vector<std::string_view> parts;
  for (const auto& t : texts) parts.push_back(prefix_at_line(t, sample / texts.size()));
  tokenizer::TrainerOptions bpe;
  bpe.vocab_size = vocab_size;
  return tokenizer::train_bpe(parts, bpe);
}

// The vocabulary: --tokenizer DIR, else the run's own (a resumed run reads OUT/tokenizer back),
// else learned now and saved to OUT/tokenizer.
std::shared_ptr<tokenizer::ModelTokenizer> vocabulary(const Settings& s, const std::string& arch,
                                                      const std::vector<std::string>& texts, const fs::path& tok_dir,
                                                      bool resume) {
  if (!s.text("tokenizer").empty())
    return std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(s.text("tokenizer")));
  if (resume && fs::exists(tok_dir / "vocab.json"))
    return std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(tok_dir));
  const auto b0 = std::chrono::steady_clock::now();
  std::shared_ptr<tokenizer::ModelTokenizer> tok;
  if (arch == "gpt2") {
    auto model = learn_bpe(s, texts, size_t(s.integer("vocab-size", 257, 1 << 20)));
    tok = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::from_bpe(
        tokenizer::Tokenizer::from_model(model), tokenizer::TokenizerFamily::Gpt2));
    tok->save(tok_dir);
  } else {
    // <|endoftext|> is dropped and <s> <pad> </s> <unk> <mask> added: 4 more than the trainer's.
    const auto model = learn_bpe(s, texts, size_t(s.integer("vocab-size", 261, 1 << 20)) - 4);
    tok = std::make_shared<tokenizer::ModelTokenizer>(save_bart_vocabulary(model, tok_dir));
  }
  std::printf("pretrain: BPE vocabulary of %zu tokens learned in %.1f s\n", tok->vocab_size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count());
  return tok;
}

train::LoopOptions loop_options(const Settings& s, uint64_t seed, int64_t pad_id) {
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
  o.pad_id = pad_id;
  return o;
}

// summary.json and the last line.
void report(const fs::path& out, const train::LoopResult& result, int64_t parameters, int64_t train_tokens,
            std::chrono::steady_clock::time_point t0) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json summary = {{"final_train_loss", result.last_loss},
                        {"best_dev_loss", result.best_metric ? *result.best_metric : NAN},
                        {"best_dev_ppl", result.best_metric ? std::exp(*result.best_metric) : NAN},
                        {"best_step", result.best_step},
                        {"steps", result.steps},
                        {"parameters", parameters},
                        {"train_tokens", train_tokens},
                        {"seconds_this_invocation", seconds}};
  nn::write_file_atomic(out / "summary.json", summary.dump(2) + "\n");
  std::printf("pretrain: done in %s: final train loss %.4f, best held-out loss %.4f (perplexity %.2f) at step %lld; "
              "model in %s\n",
              train::format_duration(seconds).c_str(), result.last_loss, result.best_metric.value_or(NAN),
              std::exp(result.best_metric.value_or(NAN)), (long long)result.best_step, (out / "model").string().c_str());
}

int64_t parameter_count(const train::NamedTensors& params) {
  int64_t count = 0;
  for (const auto& p : params) count += p.second.numel();
  return count;
}

struct PretrainRun {
  const Settings& s;
  fs::path out;
  bool resume;
  std::vector<std::string> texts;
  std::shared_ptr<tokenizer::ModelTokenizer> tok;
  std::chrono::steady_clock::time_point t0;
};

int pretrain_gpt2(const PretrainRun& run) {
  const Settings& s = run.s;
  const fs::path& out = run.out;
  const auto& tok = run.tok;
  const int64_t eos = int64_t(tok->bpe().end_of_text_id());

  // ---- blocks
  const int64_t context = s.integer("context", 8, 1 << 16);
  const int64_t held_every = s.integer("held-out-every", 2, 1 << 30);
  std::vector<train::Example> train_blocks, dev_blocks;
  std::vector<int64_t> stream;
  for (const auto& t : run.texts) {
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
  const int64_t count = parameter_count(params);
  std::printf("pretrain: GPT-2 %lld layers, d=%lld, %lld heads, context %lld, vocabulary %lld: %.2fM parameters\n",
              (long long)config.n_layer, (long long)config.n_embd, (long long)config.n_head, (long long)context,
              (long long)config.vocab_size, double(count) / 1e6);

  const train::LoopOptions o = loop_options(s, seed, eos);
  const int64_t eval_blocks = std::min<int64_t>(s.integer("eval-blocks", 1, 1 << 30), int64_t(dev_blocks.size()));

  const json config_json = run_config(s, "gpt2");
  if (!run.resume) nn::write_file_atomic(out / "config.json", config_json.dump(2) + "\n");

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
  const auto result = train::run_training(o, params, train_blocks, loss, evaluate, out, run.resume, config_json);
  if (result.has_best) train::load_parameters(out / "best.safetensors", params);
  save_model_dir(model, *tok, out / "model");
  report(out, result, count, int64_t(train_blocks.size()) * context, run.t0);
  return 0;
}

int pretrain_bart(const PretrainRun& run) {
  const Settings& s = run.s;
  const fs::path& out = run.out;
  const auto& tok = *run.tok;
  const BartSpecialIds ids =
      bart_special_ids(tok, s.text("tokenizer").empty() ? (out / "tokenizer").string() : s.text("tokenizer"));

  // ---- blocks: <s> body </s>, per book
  const int64_t context = s.integer("context", 8, 1 << 16);
  const int64_t held_every = s.integer("held-out-every", 2, 1 << 30);
  const BartBlocks blocks = bart_blocks(tok, run.texts, ids, context, held_every);
  PETL_CHECK(!blocks.train.empty() && !blocks.held_out.empty(), "pretrain: the corpus gives ", blocks.tokens,
             " tokens, too few for blocks of ", context, " held out every ", held_every);
  int64_t train_tokens = 0;
  for (const auto& b : blocks.train) train_tokens += int64_t(b.ids.size());
  std::printf("pretrain: %lld tokens -> %zu training blocks, %zu held-out blocks of at most %lld tokens (<s> ... </s>)\n",
              (long long)blocks.tokens, blocks.train.size(), blocks.held_out.size(), (long long)context);

  BartNoise noise;
  noise.ids = ids;
  noise.options.mask_ratio = s.number("mask-ratio", 0, 1);
  noise.options.poisson_lambda = s.number("poisson-lambda", 1e-3, 50);
  noise.options.permute_sentences = !s.flag("no-permute");
  noise.options.mask_id = ids.mask;
  noise.sentences = sentence_tokens(tok);
  const auto ends = std::count(noise.sentences.ends.begin(), noise.sentences.ends.end(), true);
  const auto closers = std::count(noise.sentences.closers.begin(), noise.sentences.closers.end(), true);
  std::printf("pretrain: noise: sentence permutation %s (%lld vocabulary tokens end a sentence, %lld close one), "
              "text infilling of %.0f%% of the tokens in Poisson(%.3g) spans\n",
              noise.options.permute_sentences ? "on" : "off", (long long)ends, (long long)closers,
              100 * noise.options.mask_ratio, noise.options.poisson_lambda);

  // ---- the model: transformers' BartConfig with bart-large's special ids and layout
  nn::BartConfig config;
  config.vocab_size = int64_t(tok.vocab_size());
  config.d_model = s.integer("dim", 8, 1 << 16);
  config.encoder_layers = s.integer("encoder-layers", 1, 1024);
  config.decoder_layers = s.integer("decoder-layers", 1, 1024);
  config.encoder_attention_heads = config.decoder_attention_heads = s.integer("heads", 1, 1024);
  const int64_t ffn = s.integer("ffn", 0, 1 << 20);
  config.encoder_ffn_dim = config.decoder_ffn_dim = ffn == 0 ? 4 * config.d_model : ffn;
  const int64_t positions = s.integer("max-positions", 0, 1 << 20);
  config.max_position_embeddings = positions == 0 ? context : positions;
  PETL_CHECK(config.max_position_embeddings >= context, "train pretrain: --max-positions ",
             config.max_position_embeddings, " is below --context ", context, " (a block needs a position per token)");
  config.dropout = s.number("dropout", 0, 0.99);
  config.attention_dropout = config.activation_dropout = 0.0;
  config.bos_token_id = ids.bos;
  config.pad_token_id = ids.pad;
  config.eos_token_id = config.decoder_start_token_id = config.forced_eos_token_id = ids.eos;
  config.validate("train pretrain settings");
  const uint64_t seed = uint64_t(s.integer("seed", 0, INT64_MAX));
  nn::BartForConditionalGeneration model(config, seed);
  train::NamedTensors params;  // final_logits_bias is a buffer, not trained
  for (auto& [name, t] : model.named_parameters())
    if (t.requires_grad()) params.emplace_back("model." + name, t);
  const int64_t count = parameter_count(params);
  std::printf("pretrain: BART %lld+%lld layers, d=%lld, %lld heads, FFN %lld, %lld positions, vocabulary %lld: "
              "%.2fM parameters\n",
              (long long)config.encoder_layers, (long long)config.decoder_layers, (long long)config.d_model,
              (long long)config.encoder_attention_heads, (long long)config.encoder_ffn_dim,
              (long long)config.max_position_embeddings, (long long)config.vocab_size, double(count) / 1e6);

  const train::LoopOptions o = loop_options(s, seed, ids.pad);
  const int64_t eval_blocks = std::min<int64_t>(s.integer("eval-blocks", 1, 1 << 30), int64_t(blocks.held_out.size()));

  const json config_json = run_config(s, "bart");
  if (!run.resume) nn::write_file_atomic(out / "config.json", config_json.dump(2) + "\n");

  const auto forward_loss = [&](const DenoisingBatch& b) {
    const Tensor logits = model.forward(b.input_ids, b.attention_mask, model.shift_tokens_right(b.labels));
    return model.loss(logits, b.labels);
  };
  // Training rows get fresh noise each time they come round: row r of micro-batch m draws with
  // mix(dropout seed of m, r), a function of (seed, step) like the dropout masks, so --resume
  // replays it. Held-out block i is always noised the same way (seed mix(seed, i)), so the
  // held-out losses of different steps compare.
  const auto loss = [&](const train::Batch& batch, uint64_t dropout_seed) {
    model.dropout_generator().manual_seed(dropout_seed);
    std::vector<uint64_t> row_seeds;
    for (size_t r = 0; r < batch.indices.size(); ++r) row_seeds.push_back(mix64(dropout_seed ^ mix64(r)));
    return forward_loss(denoising_batch(blocks.train, batch.indices, noise, row_seeds));
  };
  const auto evaluate = [&](int64_t) {
    NoGradGuard no_grad;
    model.train(false);
    double sum = 0;
    int64_t tokens = 0;
    for (int64_t start = 0; start < eval_blocks; start += o.batch_size) {
      std::vector<int64_t> idx;
      std::vector<uint64_t> row_seeds;
      for (int64_t i = start; i < std::min(eval_blocks, start + o.batch_size); ++i) {
        idx.push_back(i);
        row_seeds.push_back(mix64(seed ^ mix64(uint64_t(i) + 0x6A09E667F3BCC909ull)));
      }
      const DenoisingBatch b = denoising_batch(blocks.held_out, idx, noise, row_seeds);
      sum += forward_loss(b).item() * double(b.label_tokens);  // the mean over all held-out tokens
      tokens += b.label_tokens;
    }
    model.train(true);
    const double mean = sum / double(tokens);
    return std::map<std::string, double>{{"dev_loss", mean}, {"dev_ppl", std::exp(mean)}};
  };
  const auto result = train::run_training(o, params, blocks.train, loss, evaluate, out, run.resume, config_json);
  if (result.has_best) train::load_parameters(out / "best.safetensors", params);
  save_bart_model_dir(model, tok, out / "model");
  report(out, result, count, train_tokens, run.t0);
  return 0;
}

}  // namespace

int run_pretrain(std::span<const std::string> args) {
  const auto& specs = pretrain_specs();
  Settings s = Settings::parse("train pretrain", specs, args);
  if (s.help_requested()) {
    std::fputs(Settings::usage("pretrain",
                               "Pretrains a GPT-2 causal language model (--arch gpt2) or a BART denoising "
                               "autoencoder (--arch bart) from scratch on plain text (docs/train.md).",
                               specs).c_str(), stdout);
    return 0;
  }
  const std::string arch = s.text("arch");
  PETL_CHECK(arch == "gpt2" || arch == "bart", "train pretrain: unknown --arch '", arch, "' (valid: gpt2, bart)");
  for (const auto& key : arch == "gpt2" ? kBartOnly : kGpt2Only)
    PETL_CHECK(!s.given(key), "train pretrain: --", key, " applies to --arch ", arch == "gpt2" ? "bart" : "gpt2",
               " only (this run is --arch ", arch, ")");

  PretrainRun run{s, s.text("out"), s.flag("resume"), {}, nullptr, std::chrono::steady_clock::now()};
  const fs::path corpus = s.text("corpus").empty() ? fs::path(shared_data_dir()) / "corpus" / "gutenberg" : fs::path(s.text("corpus"));
  run.texts = read_texts(s, corpus);
  fs::create_directories(run.out);
  run.tok = vocabulary(s, arch, run.texts, run.out / "tokenizer", run.resume);
  return arch == "gpt2" ? pretrain_gpt2(run) : pretrain_bart(run);
}

}  // namespace petl::tool

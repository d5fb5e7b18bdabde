#include "train/tool/bart_pretrain.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "nn/atomic_file.h"
#include "nn/bart_checkpoint.h"
#include "tensor/error.h"
#include "tokenizer/vocab_files.h"

namespace petl::tool {

namespace fs = std::filesystem;
using json = nlohmann::json;

tokenizer::ModelTokenizer save_bart_vocabulary(const tokenizer::BpeModel& trained, const fs::path& dir) {
  tokenizer::BpeModel bart;
  bart.tokens = {"<s>", "<pad>", "</s>", "<unk>"};
  for (const auto& token : trained.tokens)
    if (token != tokenizer::kEndOfText) bart.tokens.push_back(token);
  bart.tokens.push_back("<mask>");
  bart.merges = trained.merges;
  const auto tok = tokenizer::ModelTokenizer::from_bpe(tokenizer::Tokenizer::from_model(bart), tokenizer::TokenizerFamily::Bart);
  tok.save(dir);
  // BartTokenizer's <mask> takes the space before it ("Hello <mask> world" -> "Hello", "<mask>",
  // " world"): lstrip in tokenizer_config.json's added_tokens_decoder, which both readers honour.
  const fs::path config_path = dir / "tokenizer_config.json";
  json config = json::parse(tokenizer::read_file(config_path, "tokenizer config"));
  config["added_tokens_decoder"][std::to_string(*tok.special_ids().mask)]["lstrip"] = true;
  nn::write_file_atomic(config_path, config.dump(2) + "\n");
  return tokenizer::ModelTokenizer::load(dir);
}

BartSpecialIds bart_special_ids(const tokenizer::ModelTokenizer& tok, const std::string& source) {
  PETL_CHECK(tok.family() == tokenizer::TokenizerFamily::Bart, "pretrain --arch bart: the tokenizer of ", source,
             " is a GPT-2 one; BART needs a BART tokenizer (tokenizer_class BartTokenizer: <s>, <pad>, </s>, <mask>)");
  const auto& s = tok.special_ids();
  PETL_CHECK(s.bos && s.pad && s.eos && s.mask, "pretrain --arch bart: the tokenizer of ", source,
             " lacks one of <s> (bos), <pad>, </s> (eos), <mask>");
  return {*s.bos, *s.pad, *s.eos, *s.mask};
}

data::SentenceTokens sentence_tokens(const tokenizer::ModelTokenizer& tok) {
  data::SentenceTokens out;
  out.ends.assign(tok.vocab_size(), false);
  out.closers.assign(tok.vocab_size(), false);
  std::vector<bool> special(tok.vocab_size(), false);
  for (const auto& a : tok.added_tokens()) special[size_t(a.id)] = true;
  static const std::vector<std::string> closing = {"\"", "'", ")", "]", "\xE2\x80\x9D" /* ” */, "\xE2\x80\x99" /* ’ */};
  static const std::vector<std::string> space = {" ", "\n", "\r", "\t"};
  // Removes every trailing piece in `set` from `text`; returns whether anything was removed.
  const auto trim = [](std::string& text, const std::vector<std::string>& set) {
    bool any = false;
    for (bool trimmed = true; trimmed && !text.empty();) {
      trimmed = false;
      for (const auto& c : set)
        if (text.size() >= c.size() && text.compare(text.size() - c.size(), c.size(), c) == 0) {
          text.resize(text.size() - c.size());
          trimmed = any = true;
        }
    }
    return any;
  };
  for (size_t id = 0; id < out.ends.size(); ++id) {
    if (special[id]) continue;
    const tokenizer::TokenId one[] = {tokenizer::TokenId(id)};
    const std::string text = tok.bpe().decode(one);
    std::string closers_only = text;
    if (trim(closers_only, closing) && closers_only.empty()) {
      out.closers[id] = true;
      continue;
    }
    std::string end = text;
    while (trim(end, space) || trim(end, closing)) {
    }
    out.ends[id] = !end.empty() && (end.back() == '.' || end.back() == '!' || end.back() == '?');
  }
  return out;
}

BartBlocks bart_blocks(const tokenizer::ModelTokenizer& tok, const std::vector<std::string>& texts,
                       const BartSpecialIds& ids, int64_t context, int64_t held_out_every) {
  PETL_CHECK(context >= 3, "pretrain --arch bart: --context ", context, " leaves no room for a token between <s> and </s>");
  const size_t body = size_t(context - 2);
  BartBlocks out;
  size_t n = 0;
  for (const auto& text : texts) {
    // The text's own "<s>" or "<mask>" stays text: only the framing below adds special tokens.
    const auto book = tok.bpe().encode(text, tokenizer::SpecialTokens::AsText);
    out.tokens += int64_t(book.size());
    for (size_t start = 0; start < book.size(); start += body, ++n) {
      const size_t end = std::min(book.size(), start + body);
      train::Example ex;
      ex.ids.reserve(end - start + 2);
      ex.ids.push_back(ids.bos);
      for (size_t i = start; i < end; ++i) ex.ids.push_back(book[i]);
      ex.ids.push_back(ids.eos);
      ex.labels = ex.ids;
      (n % size_t(held_out_every) == size_t(held_out_every - 1) ? out.held_out : out.train).push_back(std::move(ex));
    }
  }
  return out;
}

DenoisingBatch denoising_batch(const std::vector<train::Example>& blocks, const std::vector<int64_t>& indices,
                               const BartNoise& noise, const std::vector<uint64_t>& row_seeds) {
  PETL_CHECK(!indices.empty() && indices.size() == row_seeds.size(), "denoising_batch: ", indices.size(),
             " rows but ", row_seeds.size(), " seeds");
  std::vector<std::vector<int64_t>> inputs;
  size_t source_width = 0, target_width = 0;
  for (size_t r = 0; r < indices.size(); ++r) {
    const std::vector<int64_t>& block = blocks[size_t(indices[r])].ids;
    PETL_CHECK(block.size() >= 2 && block.front() == noise.ids.bos && block.back() == noise.ids.eos,
               "denoising_batch: block ", indices[r], " is not framed <s> ... </s>");
    const std::span<const int64_t> body(block.data() + 1, block.size() - 2);
    const data::NoisedTokens noised = data::add_denoising_noise(body, noise.sentences, noise.options, row_seeds[r]);
    std::vector<int64_t> input;
    input.reserve(noised.tokens.size() + 2);
    input.push_back(noise.ids.bos);
    input.insert(input.end(), noised.tokens.begin(), noised.tokens.end());
    input.push_back(noise.ids.eos);
    source_width = std::max(source_width, input.size());
    target_width = std::max(target_width, block.size());
    inputs.push_back(std::move(input));
  }
  const int64_t rows = int64_t(indices.size()), S = int64_t(source_width), T = int64_t(target_width);
  std::vector<int64_t> input_ids(size_t(rows * S), noise.ids.pad), labels(size_t(rows * T), -100);
  std::vector<float> mask(size_t(rows * S), 0.0f);
  DenoisingBatch batch;
  for (int64_t r = 0; r < rows; ++r) {
    const auto& input = inputs[size_t(r)];
    for (size_t t = 0; t < input.size(); ++t) {
      input_ids[size_t(r * S) + t] = input[t];
      mask[size_t(r * S) + t] = 1.0f;
    }
    const auto& block = blocks[size_t(indices[size_t(r)])].ids;
    std::copy(block.begin(), block.end(), labels.begin() + std::ptrdiff_t(r * T));
    batch.label_tokens += int64_t(block.size());
  }
  batch.input_ids = from_vector(input_ids, {rows, S});
  batch.attention_mask = from_vector(mask, {rows, S});
  batch.labels = from_vector(labels, {rows, T});
  return batch;
}

void save_bart_model_dir(const nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tok,
                         const fs::path& dir) {
  nn::save_bart(model, dir);
  tok.save(dir);
}

}  // namespace petl::tool

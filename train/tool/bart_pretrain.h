// The BART parts of `train pretrain --arch bart` (docs/train.md, "BART denoising pretraining"):
//
//   vocabulary  bart-large's layout: <s> 0, <pad> 1, </s> 2, <unk> 3, then the 256 byte symbols and
//               the merges of our BPE trainer, <mask> last (lstrip, as BartTokenizer's)
//   blocks      each book's tokens cut into bodies of context - 2 tokens (the last one of a book may
//               be shorter), framed <s> body </s>; every held-out-every-th block is held out
//   a batch     encoder input  = <s> noise(body) </s>   (train/data/denoising.h), padded with <pad>
//               labels         = <s> body </s>          (-100 on padding)
//               decoder input  = shift_tokens_right(labels) = </s> <s> body   (decoder_start = </s>)
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/bart.h"
#include "tokenizer/model_dir.h"
#include "train/data/denoising.h"
#include "train/lib/batching.h"

namespace petl::tool {

// The BART vocabulary made from a model of tokenizer/bpe_trainer.h (256 bytes + merges +
// <|endoftext|>, which is left out), written to `dir` (vocab.json, merges.txt,
// tokenizer_config.json) and read back from there. Its size is the trained model's + 4.
tokenizer::ModelTokenizer save_bart_vocabulary(const tokenizer::BpeModel& trained, const std::filesystem::path& dir);

// The tokenizer's special ids BART pretraining needs; a petl::Error naming `source` when the
// tokenizer is not a BART one or lacks <s>, <pad>, </s> or <mask>.
struct BartSpecialIds {
  int64_t bos = 0, pad = 1, eos = 2, mask = 3;
};
BartSpecialIds bart_special_ids(const tokenizer::ModelTokenizer& tok, const std::string& source);

// ends[id]: the token's text, with trailing whitespace, quotes and closing brackets removed, ends
// with '.', '!' or '?'; closers[id]: the text is only closing quotes and brackets (" ' ) ] ” ’).
// Special tokens are neither.
data::SentenceTokens sentence_tokens(const tokenizer::ModelTokenizer& tok);

struct BartBlocks {
  std::vector<train::Example> train, held_out;
  int64_t tokens = 0;  // body tokens of all books
};
BartBlocks bart_blocks(const tokenizer::ModelTokenizer& tok, const std::vector<std::string>& texts,
                       const BartSpecialIds& ids, int64_t context, int64_t held_out_every);

struct BartNoise {
  data::DenoisingOptions options;
  data::SentenceTokens sentences;
  BartSpecialIds ids;
};

struct DenoisingBatch {
  Tensor input_ids;       // [B, S] int64, <pad> after each row's end
  Tensor attention_mask;  // [B, S] float32: 1 token, 0 padding
  Tensor labels;          // [B, T] int64, -100 on padding
  int64_t label_tokens = 0;
};
// Row r noises the body of blocks[indices[r]] with seed row_seeds[r].
DenoisingBatch denoising_batch(const std::vector<train::Example>& blocks, const std::vector<int64_t>& indices,
                               const BartNoise& noise, const std::vector<uint64_t>& row_seeds);

// config.json + model.safetensors (nn/bart_checkpoint.h) + the tokenizer files, each atomically.
void save_bart_model_dir(const nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tok,
                         const std::filesystem::path& dir);

}  // namespace petl::tool

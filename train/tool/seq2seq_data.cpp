#include "train/tool/seq2seq_data.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "autograd/graph.h"
#include "nn/generate.h"
#include "tensor/error.h"
#include "train/tool/decoding.h"

namespace petl::tool {

std::vector<int64_t> encode_seq2seq_source(const tokenizer::ModelTokenizer& tok, const std::string& source,
                                           int64_t max_source, int64_t* cut) {
  PETL_CHECK(max_source >= 2, "encode_seq2seq_source: max_source must be >= 2, got ", max_source);
  std::vector<int64_t> ids;
  for (auto id : tok.encode_source(source)) ids.push_back(id);
  if (int64_t(ids.size()) > max_source) {  // transformers' truncation=True: the first tokens, then </s>
    const int64_t last = ids.back();
    ids.resize(size_t(max_source - 1));
    ids.push_back(last);
    if (cut) ++*cut;
  }
  return ids;
}

EncodedPairs encode_seq2seq_pairs(const tokenizer::ModelTokenizer& tok,
                                  const std::vector<std::pair<std::string, std::string>>& pairs, int64_t max_source,
                                  int64_t max_target) {
  EncodedPairs out;
  for (const auto& [source, target] : pairs) {
    train::Example ex;
    ex.ids = encode_seq2seq_source(tok, source, max_source);
    ex.labels.assign(ex.ids.size(), -100);
    for (auto id : tok.encode_target(target)) ex.decoder_labels.push_back(id);
    if (int64_t(ex.decoder_labels.size()) > max_target) {
      ++out.dropped;
      continue;
    }
    out.examples.push_back(std::move(ex));
  }
  return out;
}

std::vector<std::string> decode_seq2seq(nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tok,
                                        const std::vector<std::string>& inputs, const nn::GenerationConfig& request,
                                        const nn::GenerationConfig& model_defaults, int64_t batch_size,
                                        bool show_progress, int64_t max_source) {
  NoGradGuard no_grad;
  const bool stderr_is_terminal = isatty(fileno(stderr)) != 0;
  const bool was_training = model.training();
  model.train(false);
  const int64_t eos = model.eos_token_id(), pad = model.pad_token_id();
  // Decoder position p reads row p + 2 of its table, moved by a prefix's shift: the decoder's inputs
  // (the start token and every generated token but the last) must stay below max_position_embeddings.
  const int64_t decoder_room = model.config().max_position_embeddings - model.model->decoder->embed.position_shift;
  PETL_CHECK(decoder_room >= 1, "decode: the decoder has no position left (max_position_embeddings ",
             model.config().max_position_embeddings, ", prefix shift ", model.model->decoder->embed.position_shift, ")");
  nn::GenerationConfig capped = request;
  capped.max_new_tokens = std::min<int64_t>(request.max_new_tokens.value_or(decoder_room), decoder_room);
  std::vector<std::string> outputs;
  int64_t cut = 0;
  for (size_t start = 0; start < inputs.size(); start += size_t(batch_size)) {
    const size_t end = std::min(inputs.size(), start + size_t(batch_size));
    std::vector<std::vector<int64_t>> sources;
    size_t width = 0;
    for (size_t i = start; i < end; ++i) {
      sources.push_back(encode_seq2seq_source(tok, inputs[i], max_source, &cut));
      width = std::max(width, sources.back().size());
    }
    const int64_t rows = int64_t(sources.size()), cols = int64_t(width);
    std::vector<int64_t> ids(size_t(rows * cols), pad), mask(size_t(rows * cols), 0);
    for (int64_t r = 0; r < rows; ++r)  // the encoder's padding is on the right, masked
      for (size_t t = 0; t < sources[size_t(r)].size(); ++t) {
        ids[size_t(r * cols) + t] = sources[size_t(r)][t];
        mask[size_t(r * cols) + t] = 1;
      }
    const Tensor sequences =
        nn::generate(model, from_vector(ids, {rows, cols}), from_vector(mask, {rows, cols}), capped, model_defaults);
    const int64_t length = sequences.size(1);
    const std::vector<double> values = sequences.to_vector();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<tokenizer::TokenId> generated;
      for (int64_t t = 1; t < length; ++t) {  // column 0 is the decoder start token
        const int64_t id = int64_t(values[size_t(r * length + t)]);
        if (id == eos) break;
        generated.push_back(tokenizer::TokenId(id));
      }
      outputs.push_back(output_line(tok.decode(generated, true)));
    }
    if (show_progress) {
      std::fprintf(stderr, stderr_is_terminal ? "\rdecoded %zu/%zu" : "decoded %zu/%zu\n", end, inputs.size());
      std::fflush(stderr);
    }
  }
  if (show_progress && stderr_is_terminal) std::fprintf(stderr, "\n");
  if (cut)
    std::fprintf(stderr, "decode: %lld sources longer than %lld encoder tokens were cut to their first tokens\n",
                 (long long)cut, (long long)max_source);
  model.train(was_training);
  return outputs;
}

}  // namespace petl::tool

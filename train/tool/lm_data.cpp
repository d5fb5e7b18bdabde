#include "train/tool/lm_data.h"

#include <cstdio>

#include "autograd/graph.h"
#include "nn/generate.h"
#include "tensor/error.h"

namespace petl::tool {

std::vector<int64_t> encode_prompt(const tokenizer::ModelTokenizer& tok, const std::string& source, int64_t eos) {
  std::vector<int64_t> ids;
  for (auto id : tok.encode(source)) ids.push_back(id);
  ids.push_back(eos);
  return ids;
}

EncodedPairs encode_pairs(const tokenizer::ModelTokenizer& tok,
                          const std::vector<std::pair<std::string, std::string>>& pairs, int64_t eos,
                          int64_t max_length) {
  EncodedPairs out;
  for (const auto& [source, target] : pairs) {
    train::Example ex;
    ex.ids = encode_prompt(tok, source, eos);
    ex.labels.assign(ex.ids.size(), -100);
    for (auto id : tok.encode(" " + target)) {
      ex.ids.push_back(id);
      ex.labels.push_back(id);
    }
    ex.ids.push_back(eos);
    ex.labels.push_back(eos);
    if (int64_t(ex.ids.size()) > max_length) {
      ++out.dropped;
      continue;
    }
    out.examples.push_back(std::move(ex));
  }
  return out;
}

std::vector<std::string> decode_inputs(nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tok,
                                       const std::vector<std::string>& inputs, const nn::GenerationConfig& request,
                                       int64_t batch_size, bool show_progress) {
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.train(false);
  const int64_t eos = model.eos_token_id();
  std::vector<std::string> outputs;
  for (size_t start = 0; start < inputs.size(); start += size_t(batch_size)) {
    const size_t end = std::min(inputs.size(), start + size_t(batch_size));
    std::vector<std::vector<int64_t>> prompts;
    size_t width = 0;
    for (size_t i = start; i < end; ++i) {
      prompts.push_back(encode_prompt(tok, inputs[i], eos));
      width = std::max(width, prompts.back().size());
    }
    const int64_t rows = int64_t(prompts.size()), cols = int64_t(width);
    std::vector<int64_t> ids(size_t(rows * cols), eos), mask(size_t(rows * cols), 0);
    for (int64_t r = 0; r < rows; ++r) {
      const auto& p = prompts[size_t(r)];
      const size_t pad = width - p.size();  // left padding: the prompt ends at the last column
      for (size_t t = 0; t < p.size(); ++t) {
        ids[size_t(r * cols) + pad + t] = p[t];
        mask[size_t(r * cols) + pad + t] = 1;
      }
    }
    const Tensor sequences = nn::generate(model, from_vector(ids, {rows, cols}), from_vector(mask, {rows, cols}), request);
    const int64_t length = sequences.size(1);
    const std::vector<double> values = sequences.to_vector();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<tokenizer::TokenId> generated;
      for (int64_t t = cols; t < length; ++t) {
        const int64_t id = int64_t(values[size_t(r * length + t)]);
        if (id == eos) break;
        generated.push_back(tokenizer::TokenId(id));
      }
      std::string text = tok.decode(generated, true);
      for (char& ch : text)  // one output per line in the outputs file
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
      const size_t first = text.find_first_not_of(" \n\t");
      text = first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(" \n\t") - first + 1);
      outputs.push_back(text);
    }
    if (show_progress) {
      std::fprintf(stderr, "\rdecoded %zu/%zu", end, inputs.size());
      std::fflush(stderr);
    }
  }
  if (show_progress) std::fprintf(stderr, "\n");
  model.train(was_training);
  return outputs;
}

}  // namespace petl::tool

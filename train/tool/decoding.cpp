#include "train/tool/decoding.h"

#include "tensor/error.h"
#include "tokenizer/error.h"
#include "tokenizer/utf8.h"
#include "train/data/text_file.h"

namespace petl::tool {

std::vector<SettingSpec> decoding_specs() {
  return {{"beams", 5, "beam width (1: greedy)"},
          {"max-new-tokens", 64, "longest output in tokens"},
          {"min-new-tokens", 0, "shortest output in tokens (EOS banned before; 0: off)"},
          {"length-penalty", 1.0, "beam score / length^penalty"},
          {"no-repeat-ngram", 0, "ban repeating n-grams of this size (0: off)"},
          {"decode-batch", 16, "inputs decoded together"}};
}

nn::GenerationConfig generation_request(const nlohmann::json& s) {
  nn::GenerationConfig g;
  g.num_beams = s.value("beams", int64_t(5));
  g.max_new_tokens = s.value("max-new-tokens", int64_t(64));
  g.length_penalty = s.value("length-penalty", 1.0);
  g.no_repeat_ngram_size = s.value("no-repeat-ngram", int64_t(0));
  if (const int64_t min_new = s.value("min-new-tokens", int64_t(0)); min_new > 0) g.min_new_tokens = min_new;
  g.do_sample = false;
  g.early_stopping = nn::EarlyStopping::True;
  return g;
}

nlohmann::json task_decoding_defaults(const std::string& task) {
  if (task == "xsum")
    return {{"beams", 6}, {"max-new-tokens", 60}, {"min-new-tokens", 10}, {"no-repeat-ngram", 3}, {"length-penalty", 1.0}};
  return nlohmann::json::object();
}

std::string output_line(const std::string& bytes) {
  std::string text;
  for (size_t pos = 0; pos < bytes.size();) {
    const size_t start = pos;
    try {
      tokenizer::utf8::decode(bytes, pos);
      text.append(bytes, start, pos - start);
    } catch (const tokenizer::TokenizerError&) {
      tokenizer::utf8::append(text, U'\uFFFD');
      pos = start + 1;
    }
  }
  for (char& ch : text)
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  const size_t first = text.find_first_not_of(' ');
  return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(' ') - first + 1);
}

void write_outputs(const std::string& path, const std::vector<std::string>& outputs) {
  std::string text;
  for (const auto& o : outputs) {
    PETL_CHECK(o.find('\n') == std::string::npos, "write_outputs: an output contains a newline");
    text += o + "\n";
  }
  data::write_text_file_atomic(path, text);
}

}  // namespace petl::tool

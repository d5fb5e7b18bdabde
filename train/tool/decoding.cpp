#include "train/tool/decoding.h"

#include "tensor/error.h"
#include "train/data/text_file.h"

namespace petl::tool {

std::vector<SettingSpec> decoding_specs() {
  return {{"beams", 5, "beam width (1: greedy)"},
          {"max-new-tokens", 64, "longest output in tokens"},
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
  g.do_sample = false;
  g.early_stopping = nn::EarlyStopping::True;
  return g;
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

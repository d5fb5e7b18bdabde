// Fuzz target: the WebNLG / DART official text steps (train/metrics/data_to_text_text.h: Python's
// re.split('(\W)') tokenization, str.lower() with its final sigma, unidecode) on arbitrary bytes,
// then the WebNLG and DART scorers with the input as output and reference. The steps must accept
// anything (an invalid byte is U+FFFD) and keep their invariants: the WebNLG texts are ASCII, the
// tokenized texts have no leading, trailing or doubled spaces, and each step leaves its own result
// unchanged. Only petl::Error may escape the scorers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tensor/error.h"
#include "train/metrics/data_to_text_text.h"
#include "train/metrics/task_scores.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool single_spaced(const std::string& s) {
  if (s.empty()) return true;
  return s.front() != ' ' && s.back() != ' ' && s.find("  ") == std::string::npos;
}

bool ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c > 0x7F) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace m = petl::metrics;
  const std::string output = m::webnlg_challenge_output(text);
  require(ascii(output) && single_spaced(output));
  require(m::webnlg_challenge_output(output) == output);
  const std::string reference = m::webnlg_challenge_reference(text);
  require(ascii(reference));
  const std::string dart = m::dart_text(text);
  require(single_spaced(dart));
  try {
    m::score_webnlg({std::string(text)}, {{std::string(text)}});
    m::score_dart({std::string(text)}, {{std::string(text)}}, nullptr);
  } catch (const petl::Error&) {
  }
  return 0;
}

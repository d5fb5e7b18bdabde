// Fuzz target: METEOR's text path and aligner on arbitrary bytes. The input is split at its first
// newline into a "hypothesis" and a "reference"; both go through UTF-8 decoding, the -norm
// normalizer, Java lower-casing and tokenizing, the Snowball stemmer, and then the beam-search
// aligner with the exact and stem modules (no data files needed). Only petl::Error (invalid UTF-8)
// is an expected outcome.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/error.h"
#include "train/metrics/meteor_align.h"
#include "train/metrics/meteor_normalize.h"
#include "train/metrics/meteor_stem.h"
#include "train/metrics/meteor_text.h"

using namespace petl::metrics::meteor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Normalizer normalizer("Mr\nDr\nNo #NUMERIC_ONLY#\n# comment\nU\n");
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const size_t cut = bytes.find('\n');
  const std::string_view hyp = bytes.substr(0, cut);
  const std::string_view ref = cut == std::string_view::npos ? std::string_view() : bytes.substr(cut + 1);
  try {
    std::vector<std::vector<WordKeys>> keys(2);
    const std::string_view sides[2] = {hyp, ref};
    for (int side = 0; side < 2; ++side) {
      const auto words = java_tokens(java_lower(normalizer.normalize(to_u32(sides[side], "fuzz"))));
      if (words.size() > 200) return 0;  // the beam search is quadratic; keep runs fast
      for (const auto& w : words) {
        WordKeys k;
        k.hash = java_hash(w);
        k.stem_hash = java_hash(snowball_english_stem(w));
        k.function_word = w.size() < 3;
        keys[side].push_back(k);
      }
    }
    std::vector<const WordKeys*> test, reference;
    for (const auto& k : keys[0]) test.push_back(&k);
    for (const auto& k : keys[1]) reference.push_back(&k);
    const auto counts = align(test, reference, {true, true, false, false}, nullptr);
    if (counts.chunks < 0) __builtin_trap();
  } catch (const petl::Error&) {
  }
  return 0;
}

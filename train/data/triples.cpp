#include "train/data/triples.h"

#include "tokenizer/utf8.h"
#include "train/data/text_file.h"

namespace petl::data {

namespace {
// Lower-case mapping of the scripts DART's properties can hold, as Python's str.lower() maps them:
// ASCII, Latin-1 (U+00C0-U+00DE except ×), Latin Extended-A pairs (U+0100-U+0137, U+014A-U+0177),
// Greek (U+0391-U+03AB) and Cyrillic (U+0400-U+042F). Other code points are kept.
char32_t to_lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

std::string lowercase(const std::string& text) {
  check_utf8(text, "linearize_triples: property");
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) tokenizer::utf8::append(out, to_lower(tokenizer::utf8::decode(text, pos)));
  return out;
}
}  // namespace

std::string linearize_triples(const std::vector<Triple>& triples, TripleSeparator separator,
                              bool lowercase_property) {
  std::string out;
  for (size_t i = 0; i < triples.size(); ++i) {
    if (i > 0 || separator == TripleSeparator::leading) out += " | ";
    const std::string& property = triples[i].property;
    out += triples[i].subject + " : " + (lowercase_property ? lowercase(property) : property) + " : " +
           triples[i].object;
  }
  return out;
}

}  // namespace petl::data

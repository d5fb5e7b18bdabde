#include "tokenizer/byte_unicode.h"

#include "tokenizer/error.h"
#include "tokenizer/utf8.h"

namespace petl::tokenizer {

namespace {

struct Tables {
  std::array<char32_t, 256> to_unicode{};
  std::array<std::string, 256> symbol;
  std::array<int, 0x144> to_byte{};  // every symbol is below U+0144; -1 = not a symbol
};

const Tables& tables() {
  static const Tables built = [] {
    Tables t;
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) t.to_unicode[b] = printable(b) ? static_cast<char32_t>(b) : next++;
    t.to_byte.fill(-1);
    for (int b = 0; b < 256; ++b) {
      t.to_byte[t.to_unicode[b]] = b;
      utf8::append(t.symbol[b], t.to_unicode[b]);
    }
    return t;
  }();
  return built;
}

}  // namespace

char32_t byte_to_unicode(unsigned char b) { return tables().to_unicode[b]; }

std::optional<unsigned char> unicode_to_byte(char32_t cp) {
  const auto& t = tables();
  if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
  return static_cast<unsigned char>(t.to_byte[cp]);
}

const std::string& byte_symbol(unsigned char b) { return tables().symbol[b]; }

std::string bytes_to_symbols(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += byte_symbol(static_cast<unsigned char>(c));
  return out;
}

std::optional<std::string> symbols_to_bytes(std::string_view symbols) {
  std::string out;
  out.reserve(symbols.size());
  std::size_t pos = 0;
  while (pos < symbols.size()) {
    char32_t cp;
    try {
      cp = utf8::decode(symbols, pos);
    } catch (const TokenizerError&) {
      return std::nullopt;
    }
    auto b = unicode_to_byte(cp);
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
  }
  return out;
}

}  // namespace petl::tokenizer

// Reading and writing the two files of a BPE model.
//   vocabulary: a flat JSON object {"symbols": id, ...} (OpenAI encoder.json / HF vocab.json);
//               ids must be exactly 0..N-1, each once.
//   merges:     an optional "#version: ..." first line, then one "left right" pair a line, in rank
//               order (OpenAI vocab.bpe / HF merges.txt). Empty lines are ignored, "\r\n" accepted.
// Errors name the file and the line (and, for the vocabulary, the byte offset: GPT-2's
// encoder.json is a single 1 MB line), and what was expected there.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/model.h"

namespace petl::tokenizer {

struct VocabFile {
  std::string name;                  // the file's path, for messages
  std::vector<std::string> tokens;   // tokens[id] = symbol string
  std::vector<std::size_t> lines;    // lines[id] = 1-based line of its entry
  std::vector<std::size_t> offsets;  // offsets[id] = byte offset of its entry's opening quote
  // "vocab.json:1 (byte 1234)": where the entry of `id` is.
  std::string where(std::size_t id) const;
};
VocabFile read_vocab_json(const std::filesystem::path& path);
// The same from text already in memory; `name` stands for the file in messages.
VocabFile parse_vocab_json(std::string_view text, const std::string& name);

struct MergesFile {
  std::string name;                                         // the file's path, for messages
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<std::size_t> lines;                           // lines[rank] = 1-based line number
  // "merges.txt:12": where the rule of `rank` is.
  std::string where(std::size_t rank) const;
};
MergesFile read_merges(const std::filesystem::path& path);
MergesFile parse_merges(std::string_view text, const std::string& name);

// Writes vocab.json (one entry a line, ids ascending, non-ASCII escaped as \uXXXX like GPT-2's
// encoder.json) and merges.txt ("#version: 0.2" header). Each file is written to a temporary
// file in the same directory and renamed over the target, so readers never see a partial file.
void write_vocab_json(const std::vector<std::string>& tokens, const std::filesystem::path& path);
void write_merges(const std::vector<std::pair<std::string, std::string>>& merges,
                  const std::filesystem::path& path);

// Reads a whole file; a missing or unreadable file is a TokenizerError naming the path.
std::string read_file(const std::filesystem::path& path, const char* what);

// Writes `content` to path.tmp and renames it to path.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace petl::tokenizer

// The E2E NLG Challenge data (Novikova, Dusek & Rieser 2017; tuetschek/e2e-dataset): CSV files
// with header `mr,ref`, one (meaning representation, human reference) pair per row, several rows
// per MR. An MR is `attr[value], attr[value], ...`. Also the LoRA / prefix-tuning text form
// (microsoft/LoRA examples/NLG/data/e2e/*.txt, XiangLi1999/PrefixTuning data/e2e_data/src1_*.txt):
// one `source||target` line per CSV row, both sides word-tokenized, the source linearized as
// `name : X | Type : Y | ...` (PEFT.md §19.1).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace petl::data {

struct E2eRow {
  std::string mr;   // as written in the CSV, e.g. "name[Alimentum], area[city centre]"
  std::string ref;  // the human reference, raw
  int64_t line = 0;
};

struct E2eAttribute {
  std::string name;   // e.g. "familyFriendly"
  std::string value;  // e.g. "no"
};

// Streams the rows of an E2E CSV file. Throws petl::Error on a header other than `mr,ref`, a row
// without exactly two fields, an empty MR, or any CSV error (file and line named).
void for_each_e2e_row(const std::string& path, const std::function<void(const E2eRow&)>& on_row);
std::vector<E2eRow> read_e2e_csv(const std::string& path);

// Splits "attr[value], attr[value]" into its attributes, in order. `where` prefixes errors.
std::vector<E2eAttribute> parse_e2e_mr(std::string_view mr, const std::string& where);

// The source side of the LoRA / prefix-tuning files: `attr : value` joined by " | ", with
// eatType -> Type, priceRange -> price, familyFriendly -> family friendly, and each value
// word-tokenized (e2e_word_tokenize), e.g. "name : Cocum | price : £ 20 - 25".
std::string linearize_e2e_mr(std::string_view mr, const std::string& where);

// The word tokenization those files apply to MR values: a space on each side of every character
// that is neither a letter, a digit nor whitespace (so "£20-25" -> "£ 20 - 25"), an apostrophe
// between a letter and a letter/digit split off with what follows ("isn't" -> "isn 't"), runs of
// spaces collapsed, no leading/trailing space. Non-ASCII letters (é) are letters; non-ASCII
// punctuation and currency symbols (£, €, –, “) are split off like ASCII punctuation.
// Exact on every MR value of the E2E data; on the references of lora_valid.txt it gives the file's
// text (minus the trailing space) for 4,645 of 4,672 rows: that tokenizer keeps "..", "-friendly"
// and "Cambridge-" whole, so read tokenized references from those files, not from here.
std::string e2e_word_tokenize(std::string_view text);

// One line of the `source||target` form.
struct SourceTargetLine {
  std::string source;
  std::string target;  // as in the file (tokenized, trailing space kept)
  int64_t line = 0;
};

// Reads a `source||target` file (E2E lora_valid.txt and the like): every non-empty line must hold
// exactly one "||". Streams line by line.
void for_each_source_target_line(const std::string& path,
                                 const std::function<void(const SourceTargetLine&)>& on_line);

}  // namespace petl::data

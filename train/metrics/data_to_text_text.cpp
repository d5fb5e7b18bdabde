#include "train/metrics/data_to_text_text.h"

#include "train/metrics/python_text.h"
#include "train/metrics/text_util.h"
#include "train/metrics/unidecode.h"

namespace petl::metrics {

// evaluation.py bleu_ref_files_gen: tokenize ("detokenise" in its comments), collapse spaces,
// lower, transliterate. The transliteration comes last, so its output is not re-tokenized.
std::string webnlg_challenge_reference(std::string_view lex) {
  return unidecode(python_lower(split_non_word_tokens(lex)));
}

// evaluation.py read_participant: unidecode(line.strip()); write_to_file: lower, unidecode
// (a no-op on the ASCII text by then), tokenize, collapse spaces.
std::string webnlg_challenge_output(std::string_view line) {
  const std::string item = unidecode(python_strip(line));
  return split_non_word_tokens(unidecode(python_lower(item)));
}

// gpt2_decode.py post_process(sent, is_tokenize=True, is_lower=True): lower first, then
// stardard_tokenize.
std::string dart_text(std::string_view text) { return split_non_word_tokens(python_lower(text)); }

}  // namespace petl::metrics

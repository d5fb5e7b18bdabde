// The E2E scorer's reading of a reference file (tuetschek/e2e-metrics, measure_scores.py
// `read_tsv` and `read_and_group_tsv`), reproduced so references reach the metrics exactly as the
// official scorer sees them. It differs from a plain RFC 4180 reading (e2e.h) in ways that change
// scores on some files:
//   - the file is split into lines the way Python's codecs reader does (str.splitlines: "\n",
//     "\r\n", "\r", \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029), and each line is stripped of
//     leading and trailing whitespace (str.strip: Python's Unicode whitespace);
//   - U+FEFF is removed from the first line; empty lines are dropped;
//   - the mojibake fixes "Ł" -> "£", "Â£" -> "£", "Ã©" -> "é", "ã©" -> "é" are applied;
//   - the delimiter is a tab when the first line holds one, else a comma;
//   - a quoted field spanning lines is joined with nothing (csv.reader over the stripped lines),
//     so trainset.csv's "...near The Bakers.\r\n  This coffee shop..." reads "...Bakers.This...";
//   - the header decides the columns: exactly one header field must start (case-insensitively)
//     like an MR column (mr, src, source, meaning, da, dial_act ...) and one like a reference
//     column (trg, tgt, target, ref, human); every row must have the header's number of fields.
// Where Python's csv module would quietly accept a malformed row (a quote inside an unquoted
// field, text after a closing quote, a quote never closed) this reader throws petl::Error naming
// the file, line and column instead: a reference file that parses two ways is not scored.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "train/data/e2e.h"

namespace petl::data {

// The (MR, reference) rows as the E2E scorer reads them; E2eRow::line is the 1-based line (after
// the splitting above) where the row starts.
std::vector<E2eRow> read_e2e_references_as_scorer(const std::string& path);
// The same over text in memory (UTF-8 checked); `source_name` is what errors call it.
std::vector<E2eRow> parse_e2e_references_as_scorer(std::string_view text, const std::string& source_name);

// Python's str.strip() on UTF-8 text (Unicode White_Space as str.isspace() defines it).
std::string python_strip(const std::string& text);

}  // namespace petl::data

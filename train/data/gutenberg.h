// Plain-text books from Project Gutenberg (gutenberg.org "Plain Text UTF-8" files). The book's
// body is what lies between the marker lines "*** START OF THE (or THIS) PROJECT GUTENBERG EBOOK
// ... ***" and "*** END OF THE (or THIS) PROJECT GUTENBERG EBOOK ... ***" (also written "***START"
// / "***END"); the header before and the licence after are dropped. A file without both markers is
// an error: it is either not a Gutenberg file or a damaged one, and keeping the licence text in a
// training corpus silently is the worse outcome. Use for_each_line (text_file.h) for other plain text.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace petl::data {

// True when `line` is a START (or END) marker line.
bool is_gutenberg_start_marker(std::string_view line);
bool is_gutenberg_end_marker(std::string_view line);

// Streams the body lines (markers excluded; "\r\n" stripped; a leading byte-order mark dropped).
// Throws petl::Error naming the file when the START marker is missing (before any line is given)
// or the END marker is missing (after the last line was given).
void for_each_gutenberg_body_line(const std::string& path,
                                  const std::function<void(std::string_view line, int64_t line_number)>& on_line);

// The body as one string, lines joined by "\n" (each line followed by "\n").
std::string read_gutenberg_body(const std::string& path);

}  // namespace petl::data

// Reading the tasks' text files: whole files or line by line, every byte checked as UTF-8, and
// every failure a petl::Error that names the file and the line (or byte offset) where it happened.
// Every reader in train/data and every scorer input in train/metrics goes through these.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tensor/error.h"

namespace petl::data {

// A file's whole contents. Throws petl::Error naming `path` when it cannot be opened or read, and
// naming path, line and byte offset when the bytes are not valid UTF-8.
std::string read_text_file(const std::string& path);

// Calls on_line(line, line_number) for each line (1-based; "\n" or "\r\n" stripped, a final line
// without a newline included), reading in blocks so large files stream. Stops early when on_line
// returns false. Same errors as read_text_file.
void for_each_line(const std::string& path,
                   const std::function<bool(std::string_view line, int64_t line_number)>& on_line);

// Writes `content` to `path` atomically: a temporary file in the same directory, fsync, rename
// over `path` (then fsync of the directory), so readers see the old file or the whole new one.
// Throws petl::Error naming the path on any failure, leaving no temporary file behind.
void write_text_file_atomic(const std::string& path, std::string_view content);

// Throws petl::Error "<where>: invalid UTF-8 at byte N" unless `text` is valid UTF-8.
void check_utf8(std::string_view text, const std::string& where);

}  // namespace petl::data

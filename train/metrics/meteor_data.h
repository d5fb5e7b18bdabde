// Reading METEOR's data files where users have them: resources inside meteor-1.5.jar (a zip
// archive, deflate-compressed members) and the gzip-compressed paraphrase table. zlib inflates.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace petl::metrics::meteor {

// The bytes of member `name` of the zip archive `zip`. petl::Error names the archive and the
// member when the archive is unreadable or malformed or the member is missing.
std::string read_zip_member(const std::filesystem::path& zip, std::string_view name);

// The whole file (plain bytes). petl::Error naming the path when it cannot be read.
std::string read_binary_file(const std::filesystem::path& path);

// Calls on_line(line, line_number) for each line of a gzip file ("\n" stripped; line numbers
// 1-based), streaming. petl::Error names the path (and the line) when it is unreadable or corrupt.
void for_each_gzip_line(const std::filesystem::path& path,
                        const std::function<void(std::string_view line, int64_t line_number)>& on_line);

}  // namespace petl::metrics::meteor

#include "train/data/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tokenizer/utf8.h"

namespace petl::data {

namespace {
// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
size_t first_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    try {
      tokenizer::utf8::decode(text, pos);
    } catch (const std::exception&) {
      return start;
    }
  }
  return std::string_view::npos;
}

std::ifstream open_or_throw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PETL_CHECK(in.good(), path, ": cannot open file for reading");
  return in;
}
}  // namespace

void check_utf8(std::string_view text, const std::string& where) {
  const size_t bad = first_invalid_utf8(text);
  PETL_CHECK(bad == std::string_view::npos, where, ": invalid UTF-8 at byte ", bad);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in = open_or_throw(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PETL_CHECK(!in.bad(), path, ": read error");
  const size_t bad = first_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    int64_t line = 1;
    for (size_t i = 0; i < bad; ++i) line += text[i] == '\n';
    throw Error(detail::concat(path, ":", line, ": invalid UTF-8 at byte offset ", bad));
  }
  return text;
}

void for_each_line(const std::string& path,
                   const std::function<bool(std::string_view line, int64_t line_number)>& on_line) {
  std::ifstream in = open_or_throw(path);
  std::string pending;             // bytes of the line being assembled
  std::vector<char> block(1 << 16);
  int64_t line_number = 0, line_start_offset = 0, offset = 0;
  auto emit = [&](std::string_view line) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t bad = first_invalid_utf8(line);
    PETL_CHECK(bad == std::string_view::npos, path, ":", line_number, ": invalid UTF-8 at byte offset ",
               line_start_offset + int64_t(bad));
    return on_line(line, line_number);
  };
  while (in) {
    in.read(block.data(), std::streamsize(block.size()));
    const std::streamsize got = in.gcount();
    PETL_CHECK(!in.bad(), path, ": read error");
    for (std::streamsize i = 0; i < got; ++i, ++offset) {
      if (block[size_t(i)] != '\n') {
        pending.push_back(block[size_t(i)]);
        continue;
      }
      if (!emit(pending)) return;
      pending.clear();
      line_start_offset = offset + 1;
    }
  }
  if (!pending.empty()) emit(pending);
}

void write_text_file_atomic(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string temp_name = target.filename().string();
  temp_name.insert(0, 1, '.');
  temp_name.append(".tmp-XXXXXX");  // mkstemp fills in the X's
  std::string temp = (directory / temp_name).string();
  const int fd = ::mkstemp(temp.data());
  PETL_CHECK(fd >= 0, path, ": cannot create a temporary file in ", directory.string(), ": ", std::strerror(errno));
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    throw Error(detail::concat(path, ": ", what, ": ", reason));
  };
  for (size_t written = 0; written < content.size();) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed");
    written += size_t(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod failed");
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw Error(detail::concat(path, ": close failed: ", std::strerror(errno)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    throw Error(detail::concat(path, ": cannot rename the temporary file into place: ", reason));
  }
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // makes the rename durable; best effort where directories cannot be synced
    ::close(dir_fd);
  }
}

}  // namespace petl::data

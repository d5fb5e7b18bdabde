#include "train/metrics/meteor_data.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "tensor/error.h"

namespace petl::metrics::meteor {
namespace {

uint32_t le32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 |
         uint32_t(uint8_t(b[at + 2])) << 16 | uint32_t(uint8_t(b[at + 3])) << 24;
}
uint16_t le16(const std::string& b, size_t at) {
  return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8);
}

struct ZipEntry {
  uint16_t method = 0;
  uint32_t compressed = 0, size = 0, local_header = 0;
  bool found = false;
};

// Walks the central directory (end-of-central-directory record at the end of the file, comment
// of up to 64 KiB after it) looking for `name`.
ZipEntry find_entry(const std::string& zip, const std::string& where, std::string_view name) {
  PETL_CHECK(zip.size() >= 22, where, ": not a zip archive (", zip.size(), " bytes)");
  size_t eocd = std::string::npos;
  const size_t lowest = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0;
  for (size_t at = zip.size() - 22 + 1; at-- > lowest;)
    if (le32(zip, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  PETL_CHECK(eocd != std::string::npos, where, ": not a zip archive (no end of central directory)");
  const uint16_t entries = le16(zip, eocd + 10);
  size_t at = le32(zip, eocd + 16);
  ZipEntry entry;
  for (uint16_t e = 0; e < entries; ++e) {
    PETL_CHECK(at + 46 <= zip.size() && le32(zip, at) == 0x02014b50, where,
               ": corrupt zip central directory at byte ", at);
    const uint16_t name_len = le16(zip, at + 28), extra_len = le16(zip, at + 30),
                   comment_len = le16(zip, at + 32);
    PETL_CHECK(at + 46 + name_len <= zip.size(), where, ": corrupt zip central directory at byte ", at);
    if (std::string_view(zip).substr(at + 46, name_len) == name) {
      entry.method = le16(zip, at + 10);
      entry.compressed = le32(zip, at + 20);
      entry.size = le32(zip, at + 24);
      entry.local_header = le32(zip, at + 42);
      entry.found = true;
      return entry;
    }
    at += 46 + name_len + extra_len + comment_len;
  }
  return entry;
}

}  // namespace

std::string read_binary_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  PETL_CHECK(in, path.string(), ": cannot open file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PETL_CHECK(!in.bad(), path.string(), ": read error");
  return bytes;
}

std::string read_zip_member(const std::filesystem::path& zip_path, std::string_view name) {
  const std::string where = zip_path.string();
  const std::string zip = read_binary_file(zip_path);
  const ZipEntry e = find_entry(zip, where, name);
  PETL_CHECK(e.found, where, ": no member '", name, "' in the archive");
  const size_t lh = e.local_header;
  PETL_CHECK(lh + 30 <= zip.size() && le32(zip, lh) == 0x04034b50, where, ": member '", name,
             "': corrupt local header at byte ", lh);
  const size_t data = lh + 30 + le16(zip, lh + 26) + le16(zip, lh + 28);
  PETL_CHECK(data + e.compressed <= zip.size(), where, ": member '", name, "' runs past the end of the archive");
  if (e.method == 0) {
    PETL_CHECK(e.compressed == e.size, where, ": member '", name, "': stored sizes disagree");
    return zip.substr(data, e.size);
  }
  PETL_CHECK(e.method == 8, where, ": member '", name, "': compression method ", e.method,
             " (expected 0 stored or 8 deflate)");
  std::string out(e.size, '\0');
  z_stream z{};
  PETL_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, where, ": zlib inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zip.data() + data));
  z.avail_in = e.compressed;
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = e.size;
  const int rc = inflate(&z, Z_FINISH);
  const uLong produced = z.total_out;
  inflateEnd(&z);
  PETL_CHECK(rc == Z_STREAM_END && produced == e.size, where, ": member '", name,
             "': corrupt deflate data (zlib ", rc, ", ", produced, " of ", e.size, " bytes)");
  return out;
}

void for_each_gzip_line(const std::filesystem::path& path,
                        const std::function<void(std::string_view, int64_t)>& on_line) {
  const std::string where = path.string();
  gzFile f = gzopen(where.c_str(), "rb");
  PETL_CHECK(f != nullptr, where, ": cannot open file");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  gzbuffer(f, 1 << 20);
  std::vector<char> block(1 << 20);
  std::string pending;
  int64_t line_number = 0;
  while (true) {
    const int n = gzread(f, block.data(), static_cast<unsigned>(block.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw Error(detail::concat(where, ": corrupt gzip data after line ", line_number, " (", msg, ")"));
    }
    if (n == 0) {
      int err = Z_OK;
      const char* msg = gzerror(f, &err);
      PETL_CHECK(err == Z_OK || err == Z_STREAM_END, where, ": corrupt gzip data after line ",
                 line_number, " (", msg, ")");
      break;
    }
    PETL_CHECK(!gzdirect(f), where, ": not gzip data (expected a .gz file, as pycocoevalcap ships it)");
    size_t start = 0;
    const char* chunk = block.data();
    for (int i = 0; i < n; ++i) {
      if (chunk[i] != '\n') continue;
      if (pending.empty()) {
        on_line(std::string_view(chunk + start, i - start), ++line_number);
      } else {
        pending.append(chunk + start, i - start);
        on_line(pending, ++line_number);
        pending.clear();
      }
      start = i + 1;
    }
    pending.append(chunk + start, n - start);
  }
  if (!pending.empty()) on_line(pending, ++line_number);
}

}  // namespace petl::metrics::meteor

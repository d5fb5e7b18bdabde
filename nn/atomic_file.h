// Writing a file so that readers see either the old file or the complete new one, never a part:
// the bytes go to a temporary file in the same directory, which is flushed to disk (fsync),
// renamed over the target (rename is atomic within one file system), and the directory is
// flushed too so the rename itself survives a crash.
//
//   AtomicFile out(path);        // creates "<dir>/.<name>.tmp-XXXXXX"
//   out.write(bytes, n); ...     // any number of writes
//   out.commit();                // fsync, rename to path, fsync the directory
// A destroyed AtomicFile that was not committed removes its temporary file.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>

namespace petl::nn {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void commit();

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

// The whole content at once.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace petl::nn

#include "nn/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace petl::nn {

namespace {

// fsync of the directory that holds `path`, so a rename into it is durable.
void sync_directory(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  PETL_CHECK(fd >= 0, "cannot open directory '", dir.string(), "' to sync it: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  PETL_CHECK(rc == 0, "cannot sync directory '", dir.string(), "': ", std::strerror(err));
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  std::string temp_name = ".";
  temp_name += path_.filename().string();
  temp_name += ".tmp-XXXXXX";
  const std::string pattern = (path_.parent_path() / temp_name).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  PETL_CHECK(fd_ >= 0, "cannot create a temporary file beside '", path_.string(), "': ", std::strerror(errno));
  tmp_ = name.data();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, std::size_t size) {
  PETL_CHECK(fd_ >= 0, "AtomicFile: write to '", path_.string(), "' after commit");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    PETL_CHECK(n > 0, "cannot write '", tmp_.string(), "' (for '", path_.string(), "'): ", std::strerror(errno));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  PETL_CHECK(fd_ >= 0, "AtomicFile: '", path_.string(), "' committed twice");
  if (::fsync(fd_) != 0) {
    throw Error(detail::concat("cannot sync '", tmp_.string(), "': ", std::strerror(errno)));
  }
  // mkstemp creates the file 0600; a checkpoint is an ordinary file (0644 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    ::unlink(tmp_.c_str());
    throw Error(detail::concat("cannot close '", tmp_.string(), "': ", std::strerror(errno)));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw Error(detail::concat("cannot rename '", tmp_.string(), "' to '", path_.string(), "': ", std::strerror(err)));
  }
  sync_directory(path_);
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  AtomicFile out(path);
  out.write(content.data(), content.size());
  out.commit();
}

}  // namespace petl::nn

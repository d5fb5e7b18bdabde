#include "nn/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tensor/error.h"

namespace petl::nn {

struct MappedFile::Owner {
  void* map = nullptr;  // mmap'ed region (nullptr for buffers and empty files)
  std::size_t map_size = 0;
  std::vector<uint8_t> buffer;
  ~Owner() {
    if (map) ::munmap(map, map_size);
  }
};

MappedFile MappedFile::open(const std::filesystem::path& path) {
  MappedFile f;
  f.name_ = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  PETL_CHECK(fd >= 0, "cannot open '", f.name_, "': ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(detail::concat("cannot stat '", f.name_, "': ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(detail::concat("cannot read '", f.name_, "': not a regular file"));
  }
  f.owner_ = std::make_shared<Owner>();
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ > 0) {
    void* map = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    PETL_CHECK(map != MAP_FAILED, "cannot map '", f.name_, "' (", f.size_, " bytes): ", std::strerror(err));
    f.owner_->map = map;
    f.owner_->map_size = f.size_;
    f.data_ = static_cast<const uint8_t*>(map);
  } else {
    ::close(fd);
  }
  return f;
}

MappedFile MappedFile::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  MappedFile f;
  f.owner_ = std::make_shared<Owner>();
  f.owner_->buffer = std::move(bytes);
  f.data_ = f.owner_->buffer.data();
  f.size_ = f.owner_->buffer.size();
  f.name_ = std::move(name);
  return f;
}

}  // namespace petl::nn

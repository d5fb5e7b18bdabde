// Read-only bytes of a whole file: memory-mapped (the kernel pages it in on demand, nothing is
// copied), or an in-memory buffer for bytes that never were a file (tests, fuzzing).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace petl::nn {

class MappedFile {
 public:
  // Maps `path`; a missing, unreadable or non-regular file is a petl::Error naming it.
  static MappedFile open(const std::filesystem::path& path);
  // Holds `bytes` in memory; `name` stands for the file name in error messages.
  static MappedFile from_bytes(std::vector<uint8_t> bytes, std::string name);

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  struct Owner;  // unmaps or frees when the last copy goes away
  std::shared_ptr<Owner> owner_;
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string name_;
};

}  // namespace petl::nn

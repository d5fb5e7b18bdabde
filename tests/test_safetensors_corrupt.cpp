// Truncated and corrupted safetensors files, and broken sharded indexes: each one a petl::Error
// that names the file, the tensor and the field, never a crash (this suite also runs under
// AddressSanitizer by hand, see docs/checkpoints.md) and never a silently wrong tensor.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "support/tensor_helpers.h"

using namespace petl;
using namespace petl::nn;
namespace fs = std::filesystem;

namespace {

// 8-byte little-endian length, the header text, the data bytes.
std::vector<uint8_t> file_with(const std::string& header, size_t data_bytes, uint64_t length_field) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0x11);
  std::memcpy(out.data(), &length_field, 8);
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}
std::vector<uint8_t> file_with(const std::string& header, size_t data_bytes) {
  return file_with(header, data_bytes, header.size());
}

// The error parsing (and then reading every tensor of) `bytes` gives; "" when none.
std::string error_of(std::vector<uint8_t> bytes) {
  try {
    const SafetensorsFile f = SafetensorsFile::parse(MappedFile::from_bytes(std::move(bytes), "bad.safetensors"));
    for (const auto& e : f.entries()) (void)f.tensor(e.name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Checks that the error names every fragment.
void check_error(const std::vector<uint8_t>& bytes, std::initializer_list<const char*> fragments) {
  const std::string e = error_of(bytes);
  INFO("file bytes after the length field: " << std::string(bytes.begin() + std::min<long>(8, long(bytes.size())), bytes.end()));
  INFO("error: " << e);
  REQUIRE(!e.empty());
  CHECK(e.starts_with("bad.safetensors"));
  for (const char* f : fragments) CHECK_MESSAGE(e.find(f) != std::string::npos, "missing '" << f << "'");
}

const std::string kTwo =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})";

std::vector<uint8_t> small_valid_file() {
  return serialize_safetensors({{"w", from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3})},
                                {"ids", from_vector(std::vector<int64_t>{7, 8}, {2})},
                                {"s", scalar(3.5)}},
                               {{"format", "pt"}});
}

}  // namespace

TEST_CASE("the files the corrupt cases start from are valid") {
  CHECK(error_of(file_with(kTwo, 16)) == "");
  CHECK(error_of(small_valid_file()) == "");
  CHECK(error_of(file_with("{}", 0)) == "");                                          // no tensors at all
  CHECK(error_of(file_with(R"({"__metadata__":null})", 0)) == "");                   // as the reference reader
  CHECK(error_of(file_with(R"({"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}})", 0)) == "");
  CHECK(error_of(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4)) == "");
}

TEST_CASE("a file truncated at any byte is an error") {
  const std::vector<uint8_t> full = small_valid_file();
  for (size_t n = 0; n < full.size(); ++n) {
    const std::string e = error_of(std::vector<uint8_t>(full.begin(), full.begin() + long(n)));
    INFO("truncated to " << n << " of " << full.size() << " bytes");
    CHECK(!e.empty());
  }
}

TEST_CASE("every single-byte change of a small file parses cleanly or is an error, never a crash") {
  const std::vector<uint8_t> full = small_valid_file();
  int accepted = 0, rejected = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t v : {uint8_t(0x00), uint8_t(0x20), uint8_t('"'), uint8_t('9'), uint8_t('{'), uint8_t(0xFF),
                      uint8_t(full[i] ^ 0x01), uint8_t(full[i] ^ 0x80)}) {
      std::vector<uint8_t> bytes = full;
      bytes[i] = v;
      (error_of(bytes).empty() ? accepted : rejected)++;
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);  // changes inside the data region leave a valid file
}

TEST_CASE("header length: shorter than 8 bytes, huge, past the end, not a JSON object") {
  check_error({}, {"at least 8 bytes", "found a file of 0 bytes"});
  check_error({1, 2, 3, 4, 5, 6, 7}, {"at least 8 bytes"});
  check_error(file_with(kTwo, 16, ~uint64_t(0)), {"header length 18446744073709551615", "above the limit"});
  check_error(file_with(kTwo, 16, uint64_t(1) << 40), {"above the limit"});
  check_error(file_with(kTwo, 16, kTwo.size() + 17), {"runs past the end of the file"});
  check_error(file_with("", 0), {"expected the header to start with '{'", "empty header"});
  check_error(file_with(" " + kTwo, 16), {"start with '{'"});
  check_error(file_with("[1,2]", 0), {"start with '{'"});
}

TEST_CASE("bad JSON, invalid UTF-8, duplicate keys, deep nesting") {
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8), {"header", "valid UTF-8 JSON"});
  check_error(file_with(kTwo + "x", 16), {"header", "valid UTF-8 JSON"});
  check_error(file_with(kTwo + std::string(1, '\0'), 16), {"NUL byte at offset 108"});
  check_error(file_with(kTwo + std::string(1, '\0') + "junk", 16), {"NUL byte"});
  check_error(file_with("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), {"valid UTF-8 JSON"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4),
              {"'a' appears twice"});
  check_error(file_with(R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4), {"'dtype' appears twice"});
  check_error(file_with(R"({"__metadata__":{"k":"1","k":"2"}})", 0), {"'k' appears twice"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,4]}})", 4), {"at most 3 levels"});
  check_error(file_with(std::string(5000, '[') + std::string(5000, ']'), 0), {"start with '{'"});
  check_error(file_with("{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}", 0), {"at most 3 levels"});
  // Padding after the object is whitespace (the reference writer uses spaces; its reader, like
  // this one, accepts any JSON whitespace); anything else is not JSON.
  CHECK(error_of(file_with(kTwo + "     ", 16)) == "");
  CHECK(error_of(file_with(kTwo + "\n\t ", 16)) == "");
}

TEST_CASE("entries: wrong types, unknown dtype, bad shapes and offsets name the tensor and the field") {
  check_error(file_with(R"({"a":[1,2]})", 0), {"tensor 'a'", "expected an object {dtype, shape, data_offsets}"});
  check_error(file_with(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), {"tensor 'a'", "missing field 'dtype'"});
  check_error(file_with(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4), {"missing field 'shape'"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1]}})", 4), {"missing field 'data_offsets'"});
  check_error(file_with(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1),
              {"tensor 'a'", "field 'dtype'", "expected one of BOOL", "found 'Q4'"});
  check_error(file_with(R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4), {"found 'f32'"});
  check_error(file_with(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4), {"field 'dtype'", "expected a string"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
              {"field 'shape'", "non-negative integer at axis 0", "found -1"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", 4), {"field 'shape'", "found 1.0"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}})", 4), {"field 'shape'", "found null"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4), {"field 'data_offsets'", "[begin, end]"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4), {"field 'data_offsets'", "non-negative"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8), {"begin 8 is after end 4"});
  check_error(file_with(R"({"__metadata__":{"k":1}})", 0), {"'__metadata__'", "key 'k'", "expected a string value"});
  check_error(file_with(R"({"__metadata__":[]})", 0), {"'__metadata__'", "expected an object of strings"});
  // Element counts beyond 2^64, and dimensions beyond int64, are refused before any arithmetic overflows.
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,4]}})", 4),
              {"field 'shape'", "more elements than 2^64"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]}})", 0),
              {"field 'shape'"});
  check_error(file_with(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})", 8),
              {"dtype F64 x shape [2305843009213693952]"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}})", 4),
              {"field 'data_offsets'"});
}

TEST_CASE("the tensors must tile the data region: sizes, overlaps, holes, offsets past the end") {
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
              {"tensor 'a'", "dtype F32 x shape [3] needs 3 x 4 bytes", "[0, 8] hold 8"});
  check_error(file_with(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,16]}})", 16), {"needs 4 x 2 bytes"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
              {"tensor 'b'", "[4, 12] overlaps tensor 'a' [0, 8]"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
              {"overlaps tensor"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
              {"tensor 'a'", "begins at 4, expected 0", "no unused bytes"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12),
              {"tensor 'b'", "begins at 8, expected 4"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12),
              {"cover 8 bytes of the data region, but it holds 12"});
  check_error(file_with(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
              {"tensor 'a'", "end 16 is past the end of the data region (8 bytes)"});
}

TEST_CASE("values that cannot be read as the engine's dtypes are errors when read") {
  std::vector<uint8_t> bools = file_with(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", 2);
  bools[bools.size() - 2] = 1;
  bools[bools.size() - 1] = 2;
  check_error(bools, {"tensor 'm'", "BOOL element 1 is 2, expected 0 or 1"});
  std::vector<uint8_t> big = file_with(R"({"u":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}})", 8);
  std::memset(big.data() + big.size() - 8, 0xFF, 8);
  check_error(big, {"tensor 'u'", "below 2^63"});
  check_error(file_with(R"({"f8":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1),
              {"tensor 'f8'", "F8_E4M3 cannot be read"});
}

TEST_CASE("files that are missing, empty or not regular files") {
  const auto open_error = [](const fs::path& p) -> std::string {
    try {
      SafetensorsFile::open(p);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const fs::path dir = fs::temp_directory_path() / ("petl_st_files_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  CHECK(open_error(dir / "none.safetensors").find("cannot open '" + (dir / "none.safetensors").string()) == 0);
  CHECK(open_error(dir).find("not a regular file") != std::string::npos);
  std::ofstream(dir / "empty.safetensors").close();
  CHECK(open_error(dir / "empty.safetensors").find("at least 8 bytes") != std::string::npos);
  fs::remove_all(dir);
}

namespace {

// A sharded directory with tensors a, b in shard 1 and c in shard 2.
fs::path sharded_dir() {
  const fs::path dir = fs::temp_directory_path() / ("petl_st_index_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  save_checkpoint(dir, {{"a", scalar(1)}, {"b", scalar(2)}, {"c", from_vector(std::vector<float>{3, 4}, {2})}}, 8);
  REQUIRE(fs::exists(dir / "model-00002-of-00002.safetensors"));
  return dir;
}

void write_index(const fs::path& dir, const std::string& text) {
  std::ofstream(dir / kSafetensorsIndex, std::ios::trunc) << text;
}

std::string open_dir_error(const fs::path& dir) {
  try {
    Checkpoint::open_dir(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sharded index: missing shards, keys in the wrong shard, unlisted tensors, paths outside the directory") {
  const fs::path dir = sharded_dir();
  CHECK(open_dir_error(dir) == "");
  const std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
  const auto index = [&](const std::string& map) { return R"({"metadata":{"total_size":16},"weight_map":{)" + map + "}}"; };

  write_index(dir, index(R"("a":")" + s1 + R"(","b":")" + s1 + R"(","c":"model-00003-of-00002.safetensors")"));
  std::string e = open_dir_error(dir);
  CHECK(e.find("puts 'c' in shard 'model-00003-of-00002.safetensors', which does not exist") != std::string::npos);

  write_index(dir, index(R"("a":")" + s1 + R"(","b":")" + s2 + R"(","c":")" + s2 + R"(")"));
  e = open_dir_error(dir);
  CHECK(e.find("puts 'b' in '" + s2 + "', but that shard has no such tensor") != std::string::npos);

  write_index(dir, index(R"("a":")" + s1 + R"(","c":")" + s2 + R"(")"));
  e = open_dir_error(dir);
  CHECK(e.find("holds tensor 'b', which") != std::string::npos);
  CHECK(e.find("does not list") != std::string::npos);

  write_index(dir, index(R"("a":")" + s1 + R"(","b":")" + s1 + R"(","c":"../)" + s2 + R"(")"));
  CHECK(open_dir_error(dir).find("expected a file name inside the directory, found '../" + s2 + "'") != std::string::npos);

  write_index(dir, index(R"("a":")" + s1 + R"(","a":")" + s1 + R"(")"));
  CHECK(open_dir_error(dir).find("'a' appears twice") != std::string::npos);

  write_index(dir, R"({"metadata":{}})");
  CHECK(open_dir_error(dir).find("missing key 'weight_map'") != std::string::npos);
  write_index(dir, R"({"weight_map":{"a":1}})");
  CHECK(open_dir_error(dir).find("key 'a': expected a shard file name, found 1") != std::string::npos);
  write_index(dir, R"({"weight_map":)");
  CHECK(open_dir_error(dir).find(kSafetensorsIndex) != std::string::npos);

  // A corrupt shard is reported with the shard's own name.
  write_index(dir, index(R"("a":")" + s1 + R"(","b":")" + s1 + R"(","c":")" + s2 + R"(")"));
  fs::resize_file(dir / s2, fs::file_size(dir / s2) - 1);
  e = open_dir_error(dir);
  CHECK(e.find(s2 + ": tensor 'c': field 'data_offsets': end 8 is past the end") != std::string::npos);

  fs::remove(dir / kSafetensorsIndex);
  CHECK(open_dir_error(dir).find("expected model.safetensors or model.safetensors.index.json") != std::string::npos);
  fs::remove_all(dir);
}

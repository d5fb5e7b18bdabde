// The safetensors reader and writer against files written by the reference implementation
// (tools/oracle/safetensors_fixtures.py, committed under tests/fixtures/safetensors/), and our own
// round trip. Corrupt files are tests/test_safetensors_corrupt.cpp.
#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "nn/half_float.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "support/tensor_helpers.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = "tests/fixtures/safetensors";

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("petl_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Same value, or both NaN; zeros must agree in sign too.
bool same_value(double got, const nlohmann::json& want) {
  if (want.is_string()) {
    const std::string s = want.get<std::string>();
    if (s == "nan") return std::isnan(got);
    if (s == "inf") return got == INFINITY;
    if (s == "-inf") return got == -INFINITY;
    if (s == "-0") return got == 0.0 && std::signbit(got);
    return false;
  }
  const double w = want.get<double>();
  return got == w && std::signbit(got) == std::signbit(w);
}

// float32 -> bfloat16 -> float32 with round-to-nearest-even, as torch's .to(torch.bfloat16) does.
float round_to_bfloat16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return std::bit_cast<float>(bits & 0xFFFF0000u);
}

// The formulas tools/oracle/safetensors_fixtures.py (written_values) checks the files against.
Tensor f32_values(int64_t n, Shape shape) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float(double(i) * 0.37 - 1.5);
  return from_vector(v, shape);
}
Tensor f64_values(int64_t n, Shape shape) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = double(i) / 3.0 - 2.0;
  return from_vector(v, shape, DType::F64);
}
Tensor i64_values(int64_t n, Shape shape) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i * 7 - 11;
  return from_vector(v, shape);
}

TensorMap oracle_tensors() {
  // a.weight is written from a transposed view: the file must hold its logical (row-major) order.
  Tensor weight_storage = kernel::contiguous(kernel::transpose(f32_values(12, {3, 4}), 0, 1));
  return {{"a.weight", kernel::transpose(weight_storage, 0, 1)},
          {"a.bias", f32_values(4, {4})},
          {"b.f64", f64_values(6, {2, 3})},
          {"ids", i64_values(5, {5})},
          {"scalar", f32_values(1, {})},
          {"empty", f32_values(0, {0, 2})}};
}

void check_same(const TensorMap& got, const TensorMap& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [name, w] : want) {
    INFO(name);
    REQUIRE(got.count(name));
    const Tensor& g = got.at(name);
    CHECK(g.dtype() == w.dtype());
    CHECK(g.shape() == w.shape());
    CHECK(g.to_vector() == w.to_vector());
  }
}

}  // namespace

TEST_CASE("every dtype written by the safetensors library reads back exactly") {
  const SafetensorsFile f = SafetensorsFile::open(kFixtures / "dtypes.safetensors");
  const nlohmann::json expected = read_json_file(kFixtures / "dtypes.json");
  CHECK(f.metadata() == expected["__metadata__"].get<std::map<std::string, std::string>>());
  CHECK(f.entries().size() + 1 == expected.size());
  for (const auto& [name, want] : expected.items()) {
    if (name == "__metadata__") continue;
    INFO(name);
    REQUIRE(f.contains(name));
    const Tensor t = f.tensor(name);
    CHECK(t.shape() == want["shape"].get<Shape>());
    const std::string torch_dtype = want["dtype"].get<std::string>();
    const bool floating = torch_dtype.starts_with("float") || torch_dtype == "bfloat16";
    CHECK(t.dtype() == (torch_dtype == "float64" ? DType::F64 : floating ? DType::F32 : DType::I64));
    const std::vector<double> got = t.to_vector();
    REQUIRE(got.size() == want["values"].size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i << ": got " << got[i] << ", expected " << want["values"][i]);
      if (t.dtype() == DType::I64) {
        // Compare as integers: doubles cannot hold every int64.
        CHECK(t.data<int64_t>()[i] == want["values"][i].get<int64_t>());
      } else {
        CHECK(same_value(got[i], want["values"][i]));
      }
    }
  }
}

TEST_CASE("raw bytes, stored dtypes and conversion on request") {
  const SafetensorsFile f = SafetensorsFile::open(kFixtures / "dtypes.safetensors");
  CHECK(f.entry("f16").dtype == StDType::F16);
  CHECK(f.entry("bf16").dtype == StDType::BF16);
  CHECK(f.entry("i32").dtype == StDType::I32);
  CHECK(f.raw("f16").size() == 12 * 2);
  CHECK(f.raw("f16")[4] == 0x00);  // 1.0 in float16 is 0x3C00, little-endian
  CHECK(f.raw("f16")[5] == 0x3C);
  CHECK(f.tensor("f64", DType::F32).dtype() == DType::F32);
  CHECK(f.tensor("f64", DType::F32).to_vector()[0] == double(float(1.0 / 3.0)));
  CHECK(f.keys().front() == "bf16");
  // The reference writer sorts by dtype then name, so file order differs from name order; entries()
  // follow the file.
  for (size_t i = 1; i < f.entries().size(); ++i) CHECK(f.entries()[i - 1].end == f.entries()[i].begin);
}

TEST_CASE("a transformers checkpoint: single file, sharded and bfloat16 hold the same weights") {
  const Checkpoint single = Checkpoint::open_dir(kFixtures / "gpt2_tiny");
  const Checkpoint sharded = Checkpoint::open_dir(kFixtures / "gpt2_tiny_sharded");
  const Checkpoint bf16 = Checkpoint::open_dir(kFixtures / "gpt2_tiny_bf16");
  const auto keys = single.keys();
  CHECK(keys.size() == 4 + 2 * 12);  // wte, wpe, ln_f.{weight,bias} + 12 tensors a block
  CHECK(std::count(keys.begin(), keys.end(), "transformer.wte.weight") == 1);
  CHECK(std::count(keys.begin(), keys.end(), "lm_head.weight") == 0);  // tied, so not saved
  CHECK(single.shape("transformer.h.1.attn.c_attn.weight") == Shape{8, 24});  // Conv1D [in, out]
  CHECK(sharded.keys() == keys);
  CHECK(bf16.keys() == keys);
  CHECK(sharded.file_of("transformer.h.1.mlp.c_proj.weight").find("model-0000") != std::string::npos);
  for (const std::string& k : keys) {
    INFO(k);
    const auto want = single.tensor(k).to_vector();
    CHECK(sharded.tensor(k).to_vector() == want);
    const auto got16 = bf16.tensor(k).to_vector();
    REQUIRE(got16.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) CHECK(got16[i] == double(round_to_bfloat16(float(want[i]))));
  }
}

TEST_CASE("files we write read back identically: every engine dtype, views, scalars, empty tensors") {
  const fs::path dir = scratch_dir("safetensors_roundtrip");
  const TensorMap tensors = oracle_tensors();
  save_safetensors(dir / "x.safetensors", tensors, {{"format", "pt"}, {"note", "ünïcode"}});
  std::map<std::string, std::string> metadata;
  check_same(load_safetensors(dir / "x.safetensors", &metadata), tensors);
  CHECK(metadata.at("note") == "ünïcode");

  // Layout: header length, then a header padded with spaces to a multiple of 8.
  const MappedFile bytes = MappedFile::open(dir / "x.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, bytes.bytes().data(), 8);
  CHECK(n % 8 == 0);
  CHECK(bytes.bytes()[8] == '{');
  // The bytes in memory and on disk agree.
  const auto in_memory = serialize_safetensors(tensors, {{"format", "pt"}, {"note", "ünïcode"}});
  CHECK(std::equal(in_memory.begin(), in_memory.end(), bytes.bytes().begin(), bytes.bytes().end()));
  // No temporary file is left beside it.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("files written for the oracle: a single file and a sharded directory") {
  // tools/oracle/safetensors_fixtures.py --check sets PETL_SAFETENSORS_OUT and reads these files
  // back with the safetensors library; otherwise they go to a scratch directory and are checked here.
  const char* out = std::getenv("PETL_SAFETENSORS_OUT");
  const fs::path dir = out ? fs::path(out) : scratch_dir("safetensors_oracle");
  const TensorMap tensors = oracle_tensors();
  save_safetensors(dir / "single.safetensors", tensors);
  save_checkpoint(dir / "sharded", tensors, /*max_shard_bytes=*/32);
  check_same(load_safetensors(dir / "single.safetensors"), tensors);
  const Checkpoint sharded = Checkpoint::open_dir(dir / "sharded");
  check_same(sharded.load_all(), tensors);
  const nlohmann::json index = read_json_file(dir / "sharded" / kSafetensorsIndex);
  CHECK(index["metadata"]["total_size"].get<uint64_t>() == 12 * 4 + 4 * 4 + 6 * 8 + 5 * 8 + 4);
  std::set<std::string> shards;
  for (const auto& [k, v] : index["weight_map"].items()) shards.insert(v.get<std::string>());
  CHECK(shards.size() > 1);
  // A transformers checkpoint re-saved by petl: the oracle loads it with from_pretrained.
  const TensorMap gpt2 = Checkpoint::open_dir(kFixtures / "gpt2_tiny").load_all();
  save_checkpoint(dir / "gpt2_resaved", gpt2);
  fs::copy_file(kFixtures / "gpt2_tiny" / "config.json", dir / "gpt2_resaved" / "config.json",
                fs::copy_options::overwrite_existing);
  check_same(Checkpoint::open_dir(dir / "gpt2_resaved").load_all(), gpt2);
  if (!out) fs::remove_all(dir);
}

TEST_CASE("save_checkpoint removes weights of the other layout and stale shards") {
  const fs::path dir = scratch_dir("checkpoint_layouts");
  const TensorMap tensors = oracle_tensors();
  save_checkpoint(dir, tensors, 16);  // many shards
  const size_t many = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
  save_checkpoint(dir, tensors, 64);  // fewer shards: the old ones must go
  const size_t fewer = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
  CHECK(fewer < many);
  check_same(Checkpoint::open_dir(dir).load_all(), tensors);
  save_checkpoint(dir, tensors);  // one file: index and shards go
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  check_same(Checkpoint::open_dir(dir).load_all(), tensors);
  fs::remove_all(dir);
}

TEST_CASE("float16 and bfloat16 conversion covers every bit pattern") {
  // Each 16-bit pattern against the definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormal
  // 2^-14 * m/1024, e = 31 inf/NaN; bfloat16 is the float32 with the low 16 bits zero.
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const double sign = (bits & 0x8000) ? -1.0 : 1.0;
    const int e = int(bits >> 10) & 0x1F;
    const int m = int(bits & 0x3FF);
    const float got = float16_to_float(uint16_t(bits));
    if (e == 31) {
      CHECK((m == 0 ? std::isinf(got) && std::signbit(got) == (sign < 0) : std::isnan(got)));
      continue;
    }
    const double want = e == 0 ? sign * std::ldexp(m / 1024.0, -14) : sign * std::ldexp(1.0 + m / 1024.0, e - 15);
    if (double(got) != want || std::signbit(got) != (sign < 0)) {
      FAIL("float16 0x" << std::hex << bits << ": got " << got << ", expected " << want);
    }
    const float b = bfloat16_to_float(uint16_t(bits));
    CHECK(std::bit_cast<uint32_t>(b) == (bits << 16));
  }
}

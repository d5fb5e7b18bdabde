#include "nn/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "nn/atomic_file.h"
#include "nn/half_float.h"
#include "nn/strict_json.h"
#include "tensor/kernels.h"

namespace petl::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian values; this reader copies them as they are");

namespace {

using nlohmann::json;

// The reference implementation's cap on the header (safetensors' MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  StDType type;
  const char* name;
  std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {StDType::BOOL, "BOOL", 1}, {StDType::U8, "U8", 1},   {StDType::I8, "I8", 1},
    {StDType::I16, "I16", 2},   {StDType::U16, "U16", 2}, {StDType::I32, "I32", 4},
    {StDType::U32, "U32", 4},   {StDType::I64, "I64", 8}, {StDType::U64, "U64", 8},
    {StDType::F8_E5M2, "F8_E5M2", 1}, {StDType::F8_E4M3, "F8_E4M3", 1}, {StDType::F16, "F16", 2},
    {StDType::BF16, "BF16", 2}, {StDType::F32, "F32", 4}, {StDType::F64, "F64", 8},
};

const DTypeInfo& info(StDType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d;
  throw Error("safetensors: unknown dtype enum value");
}

std::string known_dtype_list() {
  std::string out;
  for (const auto& d : kDTypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Copies n elements of type From at src (unaligned bytes) into dst, converting each.
template <class From, class To, class Convert>
void convert_elements(const uint8_t* src, To* dst, std::size_t n, Convert convert) {
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, src + i * sizeof(From), sizeof(From));
    dst[i] = convert(v);
  }
}

template <class From>
void widen_integers(const uint8_t* src, int64_t* dst, std::size_t n) {
  convert_elements<From>(src, dst, n, [](From v) { return static_cast<int64_t>(v); });
}

}  // namespace

const char* st_dtype_name(StDType t) { return info(t).name; }
std::size_t st_dtype_size(StDType t) { return info(t).size; }

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) { return parse(MappedFile::open(path)); }

SafetensorsFile SafetensorsFile::parse(MappedFile bytes) {
  SafetensorsFile f;
  f.file_ = std::move(bytes);
  const std::string& file = f.file_.name();
  const auto data = f.file_.bytes();
  const uint64_t size = data.size();

  // ---- header length
  PETL_CHECK(size >= 8, file, ": expected at least 8 bytes (the header length), found a file of ", size, " bytes");
  const uint64_t n = read_u64_le(data.data());
  PETL_CHECK(n <= kMaxHeaderBytes, file, ": header length ", n, " is above the limit of ", kMaxHeaderBytes,
             " bytes (a corrupt or non-safetensors file)");
  PETL_CHECK(n <= size - 8, file, ": header length ", n, " runs past the end of the file (", size - 8,
             " bytes follow the length field)");
  f.data_start_ = 8 + n;
  const uint64_t data_size = size - f.data_start_;

  // ---- header JSON
  const auto* text = reinterpret_cast<const char*>(data.data() + 8);
  PETL_CHECK(n >= 1 && text[0] == '{', file, ": expected the header to start with '{', found ",
             n == 0 ? std::string("an empty header") : "byte " + std::to_string(static_cast<unsigned char>(text[0])));
  // Three levels suffice: {name: {field: [numbers]}}.
  const json header = parse_json_strict(std::string_view(text, n), file + ": header", 3);
  PETL_CHECK(header.is_object(), file, ": header: expected a JSON object, found ", json_excerpt(header));

  // ---- entries
  for (auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;  // the reference reader takes null as "no metadata"
      PETL_CHECK(value.is_object(), file, ": '__metadata__': expected an object of strings, found ", json_excerpt(value));
      for (auto& [mkey, mvalue] : value.items()) {
        PETL_CHECK(mvalue.is_string(), file, ": '__metadata__': key '", mkey, "': expected a string value, found ",
                   json_excerpt(mvalue));
        f.metadata_[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    const std::string where = detail::concat(file, ": tensor '", key, "'");
    PETL_CHECK(value.is_object(), where, ": expected an object {dtype, shape, data_offsets}, found ", json_excerpt(value));
    // Other fields are ignored, as the reference reader ignores them.
    for (const char* field : {"dtype", "shape", "data_offsets"})
      PETL_CHECK(value.contains(field), where, ": missing field '", field, "'");
    SafetensorsEntry e;
    e.name = key;

    const json& dtype = value["dtype"];
    PETL_CHECK(dtype.is_string(), where, ": field 'dtype': expected a string, found ", json_excerpt(dtype));
    const std::string dtype_name = dtype.get<std::string>();
    const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                     [&](const DTypeInfo& d) { return dtype_name == d.name; });
    PETL_CHECK(known != std::end(kDTypes), where, ": field 'dtype': expected one of ", known_dtype_list(),
               ", found '", dtype_name, "'");
    e.dtype = known->type;

    const json& shape = value["shape"];
    PETL_CHECK(shape.is_array(), where, ": field 'shape': expected an array of non-negative integers, found ",
               json_excerpt(shape));
    uint64_t numel = 1;
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
      const json& dim = shape[axis];
      PETL_CHECK(dim.is_number_unsigned() || (dim.is_number_integer() && dim.get<int64_t>() >= 0), where,
                 ": field 'shape': expected a non-negative integer at axis ", axis, ", found ", json_excerpt(dim));
      const uint64_t d = dim.get<uint64_t>();
      PETL_CHECK(d <= uint64_t(std::numeric_limits<int64_t>::max()) && !__builtin_mul_overflow(numel, d, &numel),
                 where, ": field 'shape': ", json_excerpt(shape), " has more elements than 2^64");
      e.shape.push_back(static_cast<int64_t>(d));
    }

    const json& offsets = value["data_offsets"];
    PETL_CHECK(offsets.is_array() && offsets.size() == 2, where,
               ": field 'data_offsets': expected [begin, end], found ", json_excerpt(offsets));
    for (const json& o : offsets)
      PETL_CHECK(o.is_number_unsigned() || (o.is_number_integer() && o.get<int64_t>() >= 0), where,
                 ": field 'data_offsets': expected two non-negative integers, found ", json_excerpt(offsets));
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    PETL_CHECK(e.begin <= e.end, where, ": field 'data_offsets': begin ", e.begin, " is after end ", e.end);
    PETL_CHECK(e.end <= data_size, where, ": field 'data_offsets': end ", e.end,
               " is past the end of the data region (", data_size, " bytes)");
    uint64_t bytes = 0;
    PETL_CHECK(!__builtin_mul_overflow(numel, uint64_t(known->size), &bytes) && bytes == e.end - e.begin, where,
               ": dtype ", known->name, " x shape ", shape_str(e.shape), " needs ", numel, " x ", known->size,
               " bytes, but data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin);
    f.entries_.push_back(std::move(e));
  }

  // ---- the tensors tile the data region: no overlap, no hole, nothing after the last
  std::sort(f.entries_.begin(), f.entries_.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : f.entries_) {
    if (e.begin < covered) {
      throw Error(detail::concat(file, ": tensor '", e.name, "': field 'data_offsets': [", e.begin, ", ", e.end,
                                 "] overlaps tensor '", previous->name, "' [", previous->begin, ", ", previous->end,
                                 "]"));
    }
    if (e.begin > covered) {
      throw Error(detail::concat(file, ": tensor '", e.name, "': field 'data_offsets': begins at ", e.begin,
                                 ", expected ", covered, " (the format allows no unused bytes between tensors)"));
    }
    covered = e.end;
    previous = &e;
  }
  PETL_CHECK(covered == data_size, file, ": the tensors cover ", covered, " bytes of the data region, but it holds ",
             data_size, " (the format allows no unused bytes after the last tensor)");
  for (std::size_t i = 0; i < f.entries_.size(); ++i) f.index_.emplace(f.entries_[i].name, i);
  return f;
}

std::vector<std::string> SafetensorsFile::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  std::sort(out.begin(), out.end());
  return out;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& key) const {
  auto it = index_.find(key);
  PETL_CHECK(it != index_.end(), name(), ": no tensor '", key, "' (the file holds ", entries_.size(), " tensors)");
  return entries_[it->second];
}

std::span<const uint8_t> SafetensorsFile::raw(const std::string& key) const {
  const SafetensorsEntry& e = entry(key);
  return file_.bytes().subspan(data_start_ + e.begin, e.end - e.begin);
}

Tensor SafetensorsFile::tensor(const std::string& key) const {
  const SafetensorsEntry& e = entry(key);
  const auto bytes = raw(key);
  const uint8_t* src = bytes.data();
  const auto n = static_cast<std::size_t>(numel_of(e.shape));
  switch (e.dtype) {
    case StDType::F32: case StDType::F16: case StDType::BF16: {
      Tensor out = Tensor::empty(e.shape, DType::F32);
      float* dst = n ? out.data<float>() : nullptr;
      if (e.dtype == StDType::F32 && n) std::memcpy(dst, src, n * 4);
      if (e.dtype == StDType::F16) convert_elements<uint16_t>(src, dst, n, float16_to_float);
      if (e.dtype == StDType::BF16) convert_elements<uint16_t>(src, dst, n, bfloat16_to_float);
      return out;
    }
    case StDType::F64: {
      Tensor out = Tensor::empty(e.shape, DType::F64);
      if (n) std::memcpy(out.data<double>(), src, n * 8);
      return out;
    }
    case StDType::F8_E5M2: case StDType::F8_E4M3:
      throw Error(detail::concat(name(), ": tensor '", key, "': dtype ", st_dtype_name(e.dtype),
                                 " cannot be read (expected F64, F32, F16, BF16, an integer type or BOOL)"));
    default: break;
  }
  Tensor out = Tensor::empty(e.shape, DType::I64);
  int64_t* dst = n ? out.data<int64_t>() : nullptr;
  switch (e.dtype) {
    case StDType::I64: if (n) std::memcpy(dst, src, n * 8); break;
    case StDType::I32: widen_integers<int32_t>(src, dst, n); break;
    case StDType::U32: widen_integers<uint32_t>(src, dst, n); break;
    case StDType::I16: widen_integers<int16_t>(src, dst, n); break;
    case StDType::U16: widen_integers<uint16_t>(src, dst, n); break;
    case StDType::I8: widen_integers<int8_t>(src, dst, n); break;
    case StDType::U8: widen_integers<uint8_t>(src, dst, n); break;
    case StDType::BOOL:
      for (std::size_t i = 0; i < n; ++i) {
        PETL_CHECK(src[i] <= 1, name(), ": tensor '", key, "': BOOL element ", i, " is ", int(src[i]),
                   ", expected 0 or 1");
        dst[i] = src[i];
      }
      break;
    case StDType::U64:
      for (std::size_t i = 0; i < n; ++i) {
        uint64_t v;
        std::memcpy(&v, src + i * 8, 8);
        PETL_CHECK(v <= uint64_t(std::numeric_limits<int64_t>::max()), name(), ": tensor '", key, "': U64 element ",
                   i, " is ", v, ", expected a value below 2^63 (it is read as int64)");
        dst[i] = static_cast<int64_t>(v);
      }
      break;
    default: throw Error("safetensors: unhandled dtype");
  }
  return out;
}

Tensor SafetensorsFile::tensor(const std::string& key, DType dtype) const {
  return kernel::to(tensor(key), dtype);
}

TensorMap load_safetensors(const std::filesystem::path& path, std::map<std::string, std::string>* metadata) {
  const SafetensorsFile f = SafetensorsFile::open(path);
  TensorMap out;
  for (const auto& e : f.entries()) out.emplace(e.name, f.tensor(e.name));
  if (metadata) *metadata = f.metadata();
  return out;
}

// ---- writing

namespace {

StDType stored_dtype(DType t) {
  switch (t) {
    case DType::F32: return StDType::F32;
    case DType::F64: return StDType::F64;
    case DType::I64: return StDType::I64;
  }
  throw Error("safetensors: unknown engine dtype");
}

// Names and metadata are JSON strings, so they must be valid UTF-8.
void check_utf8(const std::string& s, const std::string& file, const char* what) {
  try {
    (void)json(s).dump();
  } catch (const json::exception&) {
    throw Error(detail::concat("cannot write '", file, "': ", what, " '", s, "' is not valid UTF-8"));
  }
}

// Emits the file: the header, then each tensor's bytes in name order.
void write_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata,
                       const std::string& file, const std::function<void(const void*, std::size_t)>& sink) {
  nlohmann::ordered_json entries = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    for (const auto& [k, v] : metadata) {
      check_utf8(k, file, "metadata key");
      check_utf8(v, file, "metadata value");
    }
    entries["__metadata__"] = metadata;
  }
  std::vector<Tensor> contents;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    PETL_CHECK(t.defined(), "cannot write '", file, "': tensor '", name, "' is undefined");
    PETL_CHECK(name != "__metadata__", "cannot write '", file, "': '__metadata__' is reserved and cannot name a tensor");
    check_utf8(name, file, "tensor name");
    Tensor cpu = kernel::contiguous(kernel::to(t.detach(), Device::cpu()));
    const uint64_t bytes = uint64_t(cpu.numel()) * dtype_size(cpu.dtype());
    entries[name] = {{"dtype", st_dtype_name(stored_dtype(cpu.dtype()))},
                     {"shape", cpu.shape()},
                     {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contents.push_back(std::move(cpu));
  }
  std::string header = entries.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // the data region starts 8-byte aligned
  const uint64_t n = header.size();
  uint8_t length[8];
  std::memcpy(length, &n, 8);
  sink(length, 8);
  sink(header.data(), header.size());
  for (const Tensor& t : contents)
    if (t.numel()) sink(t.raw_data(), std::size_t(t.numel()) * dtype_size(t.dtype()));
}

}  // namespace

void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  AtomicFile out(path);
  write_safetensors(tensors, metadata, path.string(), [&](const void* p, std::size_t n) { out.write(p, n); });
  out.commit();
}

std::vector<uint8_t> serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata,
                                           const std::string& name_for_errors) {
  std::vector<uint8_t> out;
  write_safetensors(tensors, metadata, name_for_errors, [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

}  // namespace petl::nn

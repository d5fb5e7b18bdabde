#include "nn/strict_json.h"

#include <vector>

#include "nn/mapped_file.h"
#include "tensor/error.h"

namespace petl::nn {

namespace {

using nlohmann::json;

// Builds the JSON tree as nlohmann's parser reports it, refusing repeated keys and deep nesting.
class StrictBuilder : public nlohmann::json_sax<json> {
 public:
  StrictBuilder(json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}
  std::string error;

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return put(json(v)); }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t&) override { return fail("no binary values"); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (stack_.back()->contains(k)) return fail("each key once in an object, but '" + k + "' appears twice");
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail(std::string("valid UTF-8 JSON (") + e.what() + ")");
  }

 private:
  bool fail(std::string why) {
    if (error.empty()) error = std::move(why);
    return false;
  }
  // Places v at the current position: the root, the next array element or the pending key.
  json* place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    return &(parent[key_] = std::move(v));
  }
  bool put(json v) {
    place(std::move(v));
    return true;
  }
  bool open(json container) {
    if (stack_.size() >= max_depth_)
      return fail("at most " + std::to_string(max_depth_) + " levels of nested objects and arrays");
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::size_t max_depth_;
  std::vector<json*> stack_;
  std::string key_;
};

}  // namespace

json parse_json_strict(std::string_view text, const std::string& name, std::size_t max_depth) {
  // nlohmann's lexer takes a NUL byte for the end of the input and would ignore what follows it;
  // valid JSON never holds one (inside strings it must be escaped as \u0000).
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    throw Error(detail::concat(name, ": expected JSON text, found a NUL byte at offset ", nul));
  json root;
  StrictBuilder builder(root, max_depth);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true);
  if (!ok || !builder.error.empty())
    throw Error(detail::concat(name, ": expected ", builder.error.empty() ? std::string("valid JSON") : builder.error));
  return root;
}

json read_json_file(const std::filesystem::path& path, std::size_t max_depth) {
  const MappedFile file = MappedFile::open(path);
  const auto bytes = file.bytes();
  return parse_json_strict(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string(),
                           max_depth);
}

std::string json_excerpt(const json& value) {
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

}  // namespace petl::nn

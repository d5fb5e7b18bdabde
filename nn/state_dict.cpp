#include "nn/state_dict.h"

#include <sstream>

#include "tensor/kernels.h"

namespace petl::nn {

std::function<std::optional<std::string>(const std::string&)> accept_prefix(std::string prefix,
                                                                            std::set<std::string> outside,
                                                                            std::vector<std::string> skip_suffixes) {
  return [prefix = std::move(prefix), outside = std::move(outside),
          skip = std::move(skip_suffixes)](const std::string& key) -> std::optional<std::string> {
    for (const std::string& suffix : skip)
      if (key.ends_with(suffix)) return std::nullopt;
    if (key.starts_with(prefix) || outside.count(key)) return key;
    return prefix + key;
  };
}

namespace {

// Problems found while matching a checkpoint to a module, reported together.
class Problems {
 public:
  template <class... Parts>
  void add(const Parts&... parts) {
    lines_.push_back(detail::concat(parts...));
  }
  void throw_if_any(const std::string& source) const {
    if (lines_.empty()) return;
    constexpr std::size_t kShown = 20;
    std::ostringstream out;
    out << "cannot load '" << source << "': " << lines_.size() << " problem" << (lines_.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < lines_.size() && i < kShown; ++i) out << "\n  " << lines_[i];
    if (lines_.size() > kShown) out << "\n  ... and " << lines_.size() - kShown << " more";
    throw Error(out.str());
  }

 private:
  std::vector<std::string> lines_;
};

}  // namespace

LoadReport load_state_dict(const Module& module, const Checkpoint& checkpoint, const KeyMap& keys) {
  LoadReport report;
  Problems problems;
  const auto to_file = [&](const std::string& param) { return keys.to_file ? keys.to_file(param) : param; };

  // File keys by the parameter name they map to.
  std::map<std::string, std::string> key_of;  // mapped name -> file key
  for (const std::string& key : checkpoint.keys()) {
    const std::optional<std::string> mapped = keys.to_param ? keys.to_param(key) : std::optional<std::string>(key);
    if (!mapped) {
      report.skipped.push_back(key);
      continue;
    }
    auto [it, fresh] = key_of.emplace(*mapped, key);
    if (!fresh)
      problems.add("keys '", it->second, "' and '", key, "' both map to '", *mapped, "' (", checkpoint.file_of(key), ")");
  }

  std::set<std::string> used;  // mapped names a parameter took
  const auto params = module.named_parameters();
  for (const auto& [param, value] : params) {
    std::vector<std::string> sources{param};
    if (auto t = keys.tied.find(param); t != keys.tied.end())
      sources.insert(sources.end(), t->second.begin(), t->second.end());
    std::string chosen;
    for (const std::string& s : sources) {
      if (!key_of.count(s)) continue;
      used.insert(s);  // every copy present is accounted for, the first one supplies the value
      if (chosen.empty()) chosen = s;
    }
    if (chosen.empty()) {
      if (keys.optional.count(param)) {
        report.kept.push_back(param);
      } else {
        problems.add("missing key '", to_file(param), "' for parameter '", param, "' (expected shape ",
                     shape_str(value.shape()), ")");
      }
      continue;
    }
    if (chosen == param) report.loaded.push_back(param);
    else report.from_tied.push_back(param + " <- " + key_of[chosen]);
  }
  for (const auto& [mapped, key] : key_of) {
    if (!used.count(mapped))
      problems.add("unexpected key '", key, "'", mapped != key ? " (as '" + mapped + "')" : std::string(),
                   " in ", checkpoint.file_of(key), ": the model has no such parameter (shape ",
                   shape_str(checkpoint.shape(key)), ")");
  }
  problems.throw_if_any(checkpoint.name());

  // Every key a parameter takes (tied copies included) is checked before any value changes. A
  // tensor is read, checked and dropped, then read again to be copied: twice the reading, but
  // never more than one tensor held beside the model.
  const auto converted = [&](const std::string& param, const std::string& key) {
    Tensor t = checkpoint.tensor(key);
    return keys.load_layout ? keys.load_layout(param, t) : t;
  };
  struct Copy {
    Tensor value;
    std::string param, key;  // the parameter and the file key that supplies it
  };
  std::vector<Copy> copies;
  for (const auto& [param, value] : params) {
    std::vector<std::string> sources{param};
    if (auto t = keys.tied.find(param); t != keys.tied.end())
      sources.insert(sources.end(), t->second.begin(), t->second.end());
    bool supplied = false;
    for (const std::string& s : sources) {
      auto k = key_of.find(s);
      if (k == key_of.end()) continue;
      const std::string& key = k->second;
      const Tensor t = converted(param, key);
      if (t.shape() != value.shape()) {
        problems.add("key '", key, "' in ", checkpoint.file_of(key), ": shape ", shape_str(t.shape()),
                     ", expected ", shape_str(value.shape()), " for parameter '", param, "'");
      } else if (is_floating(t.dtype()) != is_floating(value.dtype())) {
        problems.add("key '", key, "' in ", checkpoint.file_of(key), ": dtype ", dtype_name(t.dtype()), ", expected ",
                     is_floating(value.dtype()) ? "a floating type" : "an integer type", " for parameter '", param,
                     "'");
      }
      if (!supplied) copies.push_back({value, param, key});
      supplied = true;
    }
  }
  problems.throw_if_any(checkpoint.name());

  for (const Copy& c : copies) kernel::copy_(c.value, converted(c.param, c.key));
  return report;
}

TensorMap state_dict(const Module& module, const KeyMap& keys) {
  TensorMap out;
  for (const auto& [param, value] : module.named_parameters()) {
    const std::string key = keys.to_file ? keys.to_file(param) : param;
    Tensor t = keys.save_layout ? keys.save_layout(param, value.detach()) : value.detach();
    PETL_CHECK(out.emplace(key, t).second, "state_dict: parameters map to the same key '", key, "'");
  }
  return out;
}

}  // namespace petl::nn

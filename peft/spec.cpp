#include "peft/spec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "peft/presets.h"
#include "tensor/error.h"

namespace petl::peft {

namespace {

using Kind = SpecKey::Kind;

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\n\r"), b = s.find_last_not_of(" \t\n\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

bool parse_int(const std::string& s, int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_real(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string print_real(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, end);
}

// The canonical form of `value` for `key`, or an error saying what was expected.
std::string canonical_value(const std::string& method, const SpecKey& key, const std::string& value) {
  auto fail = [&](const std::string& expected) -> std::string {
    throw Error("peft spec: " + method + ": key '" + key.name + "' = '" + value + "': expected " + expected);
  };
  int64_t i = 0;
  double x = 0.0;
  switch (key.kind) {
    case Kind::Integer:
      if (!parse_int(value, i) || i <= 0) fail("a positive integer");
      return std::to_string(i);
    case Kind::Rank:
      if (parse_int(value, i) && i > 0) return std::to_string(i);
      if (value.starts_with("d/") && parse_int(value.substr(2), i) && i > 0) return "d/" + std::to_string(i);
      return fail("a positive integer or d/N (the model width over N)");
    case Kind::Real:
      if (!parse_real(value, x) || x < 0.0) fail("a non-negative real number");
      return print_real(x);
    case Kind::RealOrLearned:
      if (value == "learned") return value;
      if (!parse_real(value, x)) fail("a real number or 'learned'");
      return print_real(x);
    case Kind::Bool:
      if (value != "true" && value != "false") fail("true or false");
      return value;
    case Kind::Choice:
      if (std::find(key.choices.begin(), key.choices.end(), value) == key.choices.end())
        fail("one of " + join(key.choices));
      return value;
  }
  return value;
}

SpecKey make_key(std::string name, Kind kind, std::string def, std::string meaning,
                 std::vector<std::string> choices = {}) {
  SpecKey k;
  k.name = std::move(name);
  k.kind = kind;
  k.default_value = std::move(def);
  k.meaning = std::move(meaning);
  k.choices = std::move(choices);
  return k;
}
SpecKey integer(std::string name, std::string def, std::string meaning) {
  return make_key(std::move(name), Kind::Integer, std::move(def), std::move(meaning));
}
SpecKey rank(std::string name, std::string def, std::string meaning) {
  return make_key(std::move(name), Kind::Rank, std::move(def), std::move(meaning));
}
SpecKey real(std::string name, std::string def, std::string meaning) {
  return make_key(std::move(name), Kind::Real, std::move(def), std::move(meaning));
}
SpecKey real_or_learned(std::string name, std::string def, std::string meaning) {
  return make_key(std::move(name), Kind::RealOrLearned, std::move(def), std::move(meaning));
}
SpecKey flag(std::string name, std::string def, std::string meaning) {
  return make_key(std::move(name), Kind::Bool, std::move(def), std::move(meaning));
}
SpecKey choice(std::string name, std::string def, std::vector<std::string> choices, std::string meaning) {
  return make_key(std::move(name), Kind::Choice, std::move(def), std::move(meaning), std::move(choices));
}

SpecKey only_if(SpecKey key, std::string other, std::string value) {
  key.only_if_key = std::move(other);
  key.only_if_value = std::move(value);
  return key;
}

// Sites that cover one another (the same sublayer or the same projection named twice).
bool sites_overlap(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto pair = [&](const char* x, const char* y) { return (a == x && b == y) || (a == y && b == x); };
  return pair("attn", "self_attn") || pair("attn", "cross_attn") || pair("qkv", "q") || pair("qkv", "k") ||
         pair("qkv", "v");
}

// Methods that attach at most once to a model.
bool singleton(const std::string& method) {
  return method == "full" || method == "ft_top" || method == "bitfit" || method == "prefix" || method == "prompt" ||
         method == "mh_parallel" || method == "ia3";
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& m : spec_methods()) names.push_back(m.name);
  return names;
}

SpecEntry parse_entry(const std::string& text) {
  std::string head = text, site_text;
  bool has_sites = false;
  if (const size_t at = text.find('@'); at != std::string::npos) {
    head = trim(text.substr(0, at));
    site_text = text.substr(at + 1);
    has_sites = true;
  }
  std::string name = head, key_text;
  bool has_keys = false;
  if (const size_t colon = head.find(':'); colon != std::string::npos) {
    name = trim(head.substr(0, colon));
    key_text = head.substr(colon + 1);
    has_keys = true;
  }
  const SpecMethod& method = spec_method(name);
  SpecEntry entry;
  entry.method = method.name;
  std::vector<std::pair<std::string, std::string>> given;
  if (has_keys) {
    for (const std::string& kv : split(key_text, ',')) {
      const size_t eq = kv.find('=');
      const std::string key = trim(kv.substr(0, eq));
      std::vector<std::string> valid;
      const SpecKey* spec_key = nullptr;
      for (const auto& k : method.keys) {
        valid.push_back(k.name + " (default " + k.default_value + ")");
        if (k.name == key) spec_key = &k;
      }
      if (!spec_key)
        throw Error("peft spec: " + method.name + ": unknown key '" + key + "'; valid keys: " +
                    (valid.empty() ? std::string("none (this method takes no keys)") : join(valid)));
      if (eq == std::string::npos)
        throw Error("peft spec: " + method.name + ": key '" + key + "' has no value (write " + key + "=...)");
      for (const auto& g : given)
        if (g.first == key) throw Error("peft spec: " + method.name + ": key '" + key + "' given twice");
      given.emplace_back(key, canonical_value(method.name, *spec_key, trim(kv.substr(eq + 1))));
    }
  }
  auto value_of = [&](const SpecKey& k) {
    for (const auto& g : given)
      if (g.first == k.name) return g.second;
    return canonical_value(method.name, k, k.default_value);
  };
  for (const auto& k : method.keys) {
    if (!k.only_if_key.empty()) {
      std::string condition;
      for (const auto& other : method.keys)
        if (other.name == k.only_if_key) condition = value_of(other);
      if (condition != k.only_if_value) {
        for (const auto& g : given)
          if (g.first == k.name)
            throw Error("peft spec: " + method.name + ": key '" + k.name + "' applies only with " + k.only_if_key +
                        "=" + k.only_if_value + " (here " + k.only_if_key + "=" + condition + ")");
        continue;
      }
    }
    entry.values.emplace_back(k.name, value_of(k));
  }
  if (has_sites) {
    if (method.sites.empty()) throw Error("peft spec: " + method.name + " takes no sites (it has no '@')");
    for (const std::string& site : split(site_text, ',')) {
      if (std::find(method.sites.begin(), method.sites.end(), site) == method.sites.end())
        throw Error("peft spec: " + method.name + ": unknown site '" + site + "'; valid sites: " + join(method.sites));
      for (const auto& s : entry.sites)
        if (sites_overlap(s, site))
          throw Error("peft spec: " + method.name + ": sites '" + s + "' and '" + site +
                      "' name the same place twice; valid sites: " + join(method.sites));
      entry.sites.push_back(site);
    }
  } else {
    entry.sites = method.default_sites;
  }
  return entry;
}

// Conflicts between entries (model independent; peft/compose.cpp checks the concrete sites too).
void check_entries(const Spec& spec) {
  for (size_t i = 0; i < spec.entries.size(); ++i) {
    const SpecEntry& a = spec.entries[i];
    if (a.method == "full" && spec.entries.size() > 1)
      throw Error("peft spec: 'full' trains every weight and combines with no other method; drop it or the others");
    for (size_t j = i + 1; j < spec.entries.size(); ++j) {
      const SpecEntry& b = spec.entries[j];
      if (a.method == b.method && singleton(a.method))
        throw Error("peft spec: '" + a.method + "' appears twice; it attaches once per model (merge the two entries)");
      const bool sublayer_a = a.method == "sequential" || a.method == "parallel";
      const bool sublayer_b = b.method == "sequential" || b.method == "parallel";
      if (!sublayer_a || !sublayer_b || (a.method == "parallel" && b.method == "parallel")) continue;
      for (const auto& sa : a.sites)
        for (const auto& sb : b.sites)
          if (sites_overlap(sa, sb))
            throw Error("peft spec: '" + to_string(a) + "' and '" + to_string(b) + "' both modify the " + sa +
                        " output, and a sequential adapter's order against another adapter at its site is "
                        "undefined; put them at different sites (attn, self_attn, cross_attn, ffn) or make both "
                        "parallel");
    }
  }
}

}  // namespace

const std::vector<SpecMethod>& spec_methods() {
  static const std::vector<SpecMethod> methods = {
      {"full", "(the weights move)", "-", "every weight", "-", {}, {}, {}, "PEFT.md §1, peft/finetune.h"},
      {"ft_top", "(the last k blocks move)", "-", "top blocks' weights", "-",
       {integer("k", "2", "blocks from the top that train"),
        flag("embedding", "true", "wte (tied LM head) trains too, as [PT]")},
       {}, {}, "PEFT.md §1, peft/finetune.h"},
      {"bitfit", "const(Δb)", "parallel", "every bias", "add", {}, {}, {}, "PEFT.md §10, peft/bitfit.h"},
      {"lora", "lowrank(r), identity act", "parallel", "projection outputs", "scaled add (alpha/r)",
       {integer("r", "8", "rank"), real("alpha", "8", "s = alpha/r"), real("dropout", "0", "on the branch input"),
        flag("rslora", "false", "s = alpha/sqrt(r)")},
       {"q", "k", "v", "qkv", "o", "fc1", "fc2"}, {"q", "v"}, "PEFT.md §5, peft/lora.h"},
      {"ia3", "scale(l)", "-", "k, v, ffn hidden", "multiply", {}, {"q", "k", "v", "qkv", "ffn_hidden"},
       {"k", "v", "ffn_hidden"}, "PEFT.md §11, peft/ia3.h"},
      {"prefix", "softmax_attention(l)", "parallel", "heads (keys/values)", "gated (lambda)",
       {integer("l", "30", "prefix length P"), choice("reparam", "mlp", {"mlp", "direct"}, "MLP or a flat table"),
        only_if(integer("k", "800", "MLP width (mid_dim)"), "reparam", "mlp")},
       {"attn"}, {"attn"}, "PEFT.md §3, peft/prefix_tuning.h"},
      {"prompt", "extra input rows", "-", "layer-0 input", "concat", {integer("l", "100", "prompt length P")},
       {"input"}, {"input"}, "PEFT.md §4, peft/prompt_tuning.h"},
      {"sequential", "bottleneck(r, act)", "sequential", "sublayer output", "add",
       {rank("r", "64", "bottleneck m"), choice("act", "gelu_tanh", {"relu", "gelu_tanh", "swish"}, "f"),
        choice("init", "houlsby", {"houlsby", "bert", "zero_up"}, "weights"),
        choice("input", "h", {"h", "residual_sum"}, "what the adapter reads: h or r + h (Pfeiffer; LN(r + h) on BART)"),
        flag("train_ln", "true", "the base LayerNorms train (Houlsby)")},
       {"attn", "self_attn", "cross_attn", "ffn"}, {"attn", "ffn"}, "PEFT.md §2, peft/bottleneck_adapter.h"},
      {"parallel", "bottleneck(r, relu)", "parallel", "sublayer output or heads", "add / scaled add (s)",
       {rank("r", "512", "bottleneck"),
        real_or_learned("s", "1", "scaling of the output (1 = plain add), or 'learned'"),
        choice("init", "lora", {"lora", "bert"}, "weights"),
        choice("input", "sublayer_in", {"sublayer_in", "residual"}, "x_s (Unified View) or the residual (ParBn)")},
       {"attn", "self_attn", "cross_attn", "ffn", "heads"}, {"ffn"}, "PEFT.md §6, §8, peft/parallel_adapter.h"},
      {"mh_parallel", "relu_attention(r)", "parallel", "heads (head-wise)", "add",
       {integer("r", "30", "rows of P_k, P_v"), choice("reparam", "mlp", {"mlp", "direct"}, "MLP or a flat table"),
        only_if(integer("k", "800", "MLP width (mid_dim)"), "reparam", "mlp"),
        real("dropout", "0", "on the ReLU weights")},
       {"heads"}, {"heads"}, "PEFT.md §7, peft/multihead_parallel_adapter.h"},
  };
  return methods;
}

const SpecMethod& spec_method(const std::string& name) {
  for (const auto& m : spec_methods())
    if (m.name == name) return m;
  throw Error("peft spec: unknown method '" + name + "'; methods: " + join(method_names()) +
              "; presets: " + join(preset_names()));
}

const std::string& SpecEntry::value(const std::string& key) const {
  for (const auto& [k, v] : values)
    if (k == key) return v;
  std::vector<std::string> keys;
  for (const auto& kv : values) keys.push_back(kv.first);
  throw Error("peft spec: " + method + " has no key '" + key + "'; its keys: " + join(keys));
}

int64_t SpecEntry::integer(const std::string& key) const { return std::stoll(value(key)); }

int64_t SpecEntry::rank(const std::string& key, int64_t width) const {
  const std::string& v = value(key);
  if (!v.starts_with("d/")) return std::stoll(v);
  const int64_t n = std::stoll(v.substr(2));
  PETL_CHECK(width % n == 0, "peft spec: ", method, ": ", key, "=", v, " but the model width ", width,
             " is not divisible by ", n);
  return width / n;
}

double SpecEntry::real(const std::string& key) const { return std::strtod(value(key).c_str(), nullptr); }

bool SpecEntry::flag(const std::string& key) const { return value(key) == "true"; }

bool SpecEntry::has_site(const std::string& site) const {
  return std::find(sites.begin(), sites.end(), site) != sites.end();
}

Spec parse_spec(const std::string& text) {
  Spec spec;
  for (const std::string& part : split(text, '+')) {
    if (part.empty())
      throw Error("peft spec: empty entry in '" + text + "' (entries are joined by '+'); methods: " +
                  join(method_names()) + "; presets: " + join(preset_names()));
    const bool bare = part.find_first_of(":@ ") == std::string::npos;
    if (bare && is_preset(part) && preset_spec(part) != part) {
      for (const SpecEntry& e : parse_spec(preset_spec(part)).entries) spec.entries.push_back(e);
      continue;
    }
    spec.entries.push_back(parse_entry(part));
  }
  check_entries(spec);
  return spec;
}

std::string to_string(const SpecEntry& entry) {
  std::string out = entry.method;
  for (size_t i = 0; i < entry.values.size(); ++i) {
    out.append(i == 0 ? ":" : ",").append(entry.values[i].first).append("=").append(entry.values[i].second);
  }
  if (!entry.sites.empty()) out.append("@").append(join(entry.sites, ","));
  return out;
}

std::string to_string(const Spec& spec) {
  std::string out;
  for (const auto& e : spec.entries) out += (out.empty() ? "" : " + ") + to_string(e);
  return out;
}

}  // namespace petl::peft

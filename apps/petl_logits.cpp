// petl_logits: run a Hugging Face GPT-2 or BART model directory on a batch stored in a safetensors
// file, so that any checkpoint can be checked against transformers without writing C++.
//
//   petl_logits --model DIR --inputs IN.safetensors --out OUT.safetensors
//       IN holds input_ids and attention_mask [B, T] (integers; for BART also decoder_input_ids
//       [B, T']); OUT gets "logits", float32 [B, T, V] (BART: [B, T', V]), as model(**inputs).logits.
//   petl_logits ... --adapter DIR [--adapter DIR2 ...]
//       first loads each saved adapter onto the model, in order (methods that compose stack):
//       a Hugging Face peft directory (adapter_config.json with "peft_type": LORA, IA3, PREFIX_TUNING,
//       PROMPT_TUNING) or an AdapterHub save_adapter directory (adapter_config.json with "config" and
//       "model_type"; adapter.safetensors: bottleneck, parallel, prefix tuning, MAM). The logits are then
//       the adapted model's, as PeftModel.from_pretrained(base, DIR)(**inputs).logits or adapters'
//       load_adapter + set_active_adapters give them (peft's GPT-2 prefix shifts the positions by P;
//       peft's prompt tuning on GPT-2 returns P + T rows). petl writes only these two formats.
//   petl_logits ... --generate greedy|beam:N [--max-new-tokens K]
//       OUT gets "sequences", int64, as model.generate(input_ids, attention_mask, num_beams=N,
//       max_new_tokens=K) returns them, with the directory's generation_config.json (or config.json)
//       as defaults. GPT-2 prompts are left-padded; BART decodes from its decoder start token.
//
// Exit status: 0 on success, 1 when a file or tensor is wrong (the message names it), 2 on bad usage.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>

#include "autograd/graph.h"
#include "nn/bart_checkpoint.h"
#include "nn/generate.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "peft/adapterhub_format.h"
#include "peft/bart_prefix.h"
#include "peft/generation.h"
#include "peft/peft_format.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"

namespace {

namespace fs = std::filesystem;
using petl::Error;
using petl::Tensor;

constexpr const char* kUsage =
    "usage: petl_logits --model DIR --inputs IN.safetensors --out OUT.safetensors\n"
    "                   [--adapter DIR]... [--generate greedy|beam:N] [--max-new-tokens K]\n";

struct Args {
  fs::path model, inputs, out;
  std::string generate;           // "" = logits
  int64_t num_beams = 1;
  std::optional<int64_t> max_new_tokens;
  std::vector<fs::path> adapters;  // --adapter, in order
};

struct UsageError : Error {
  using Error::Error;
};

int64_t parse_positive(const std::string& flag, const std::string& text) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || used == 0 || value <= 0)
    throw UsageError(petl::detail::concat(flag, " expects a positive integer, got '", text, "'"));
  return value;
}

Args parse_args(int argc, char** argv) {
  Args a;
  std::map<std::string, std::string> seen;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") throw UsageError("help");
    if (flag != "--model" && flag != "--inputs" && flag != "--out" && flag != "--generate" &&
        flag != "--max-new-tokens" && flag != "--adapter")
      throw UsageError("unknown argument '" + flag + "'");
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    if (flag == "--adapter") {  // repeatable
      a.adapters.emplace_back(argv[++i]);
      continue;
    }
    if (seen.count(flag)) throw UsageError(flag + " given twice");
    seen[flag] = argv[++i];
  }
  for (const char* required : {"--model", "--inputs", "--out"})
    if (!seen.count(required)) throw UsageError(std::string("missing ") + required);
  a.model = seen["--model"];
  a.inputs = seen["--inputs"];
  a.out = seen["--out"];
  if (seen.count("--generate")) {
    a.generate = seen["--generate"];
    if (a.generate.rfind("beam:", 0) == 0) {
      a.num_beams = parse_positive("--generate beam:N", a.generate.substr(5));
    } else if (a.generate != "greedy") {
      throw UsageError("--generate expects greedy or beam:N, got '" + a.generate + "'");
    }
  }
  if (seen.count("--max-new-tokens")) {
    if (a.generate.empty()) throw UsageError("--max-new-tokens only applies with --generate");
    a.max_new_tokens = parse_positive("--max-new-tokens", seen["--max-new-tokens"]);
  }
  return a;
}

// model_type from DIR/config.json: "gpt2" or "bart".
std::string model_type(const fs::path& dir) {
  const fs::path path = dir / "config.json";
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open (is --model a Hugging Face model directory?)");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path.string() + ": not valid JSON: " + e.what());
  }
  const auto it = config.find("model_type");
  if (it == config.end() || !it->is_string())
    throw Error(path.string() + ": key \"model_type\" missing or not a string");
  const std::string type = *it;
  if (type != "gpt2" && type != "bart")
    throw Error(path.string() + ": model_type \"" + type + "\" is not supported (expected \"gpt2\" or \"bart\")");
  return type;
}

// An integer [B, T] tensor of the inputs file, as int64.
Tensor read_ids(const petl::nn::SafetensorsFile& file, const std::string& key) {
  if (!file.contains(key)) throw Error(file.name() + ": tensor \"" + key + "\" missing");
  const petl::nn::SafetensorsEntry& e = file.entry(key);
  const std::string dtype = petl::nn::st_dtype_name(e.dtype);
  if (dtype != "I64" && dtype != "I32" && dtype != "I16" && dtype != "I8" && dtype != "U8" && dtype != "BOOL")
    throw Error(file.name() + ": tensor \"" + key + "\" must hold integers (I64 or I32), found " + dtype);
  if (e.shape.size() != 2 || e.shape[0] == 0 || e.shape[1] == 0)
    throw Error(file.name() + ": tensor \"" + key + "\" must be [batch, length], found shape " +
                petl::shape_str(e.shape));
  return file.tensor(key);
}

void check_same_batch(const petl::nn::SafetensorsFile& file, const Tensor& ids, const Tensor& mask,
                      const std::string& ids_key, const std::string& mask_key) {
  if (mask.shape() != ids.shape())
    throw Error(file.name() + ": tensor \"" + mask_key + "\" has shape " + petl::shape_str(mask.shape()) +
                ", expected the shape of \"" + ids_key + "\" " + petl::shape_str(ids.shape()));
}

// The adapters of --adapter, attached to the model; they live as long as this object.
struct Adapted {
  std::vector<std::shared_ptr<void>> methods;
  int64_t prefix_positions = 0;  // GPT-2: P when a peft prefix counts as a past (positions P .. P+T-1)
  // decoding that was not compared with the libraries' generate() (AdapterHub's prefix and MAM, peft's
  // prefix and prompt together on GPT-2, whose positions peft numbers differently): refused
  std::string not_for_generation;
  bool peft_positions = false;  // GPT-2: decode_like_peft already set by a peft prefix or prompt
};

nlohmann::json adapter_config(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(dir.string() + ": --adapter expects a directory");
  return petl::nn::read_json_file(dir / "adapter_config.json");
}

template <class Model>
void load_adapter(Model& model, const fs::path& dir, Adapted& adapted) {
  namespace peft = petl::peft;
  constexpr bool bart = std::is_same_v<Model, petl::nn::BartForConditionalGeneration>;
  const nlohmann::json config = adapter_config(dir);
  const fs::path config_path = dir / "adapter_config.json";
  if (config.is_object() && config.contains("config") && config.contains("model_type")) {  // AdapterHub
    const peft::LoadedAdapterHub loaded = peft::load_adapterhub(model, dir);
    if (std::dynamic_pointer_cast<peft::PrefixTuning>(loaded.method) ||
        std::dynamic_pointer_cast<peft::BartPrefixTuning>(loaded.method) || std::dynamic_pointer_cast<peft::Mam>(loaded.method))
      adapted.not_for_generation = dir.string();
    adapted.methods.push_back(loaded.method);
    return;
  }
  if (!config.is_object() || !config.contains("peft_type") || !config.at("peft_type").is_string())
    throw Error(config_path.string() + ": neither a peft adapter (no string \"peft_type\") nor an AdapterHub one "
                "(no \"config\" and \"model_type\")");
  const std::string type = config.at("peft_type");
  petl::nn::SiteMap sites = model.sites();
  // GPT-2 decodes a peft prefix or prompt with peft's positions (peft/generation.h); both at once have no
  // single numbering
  auto peft_decoding = [&](auto& method) {
    if constexpr (!bart) {
      if (adapted.peft_positions) adapted.not_for_generation = dir.string();
      petl::peft::decode_like_peft(model, method);
      adapted.peft_positions = true;
    }
  };
  if (type == "LORA") {
    adapted.methods.push_back(std::shared_ptr<peft::Lora>(peft::load_peft_lora(model, sites, dir)));
  } else if (type == "IA3") {
    adapted.methods.push_back(std::shared_ptr<peft::Ia3>(peft::load_peft_ia3(model, sites, dir)));
  } else if (type == "PREFIX_TUNING") {
    if constexpr (bart) {
      auto prefix = peft::BartPrefixTuning::load_peft(dir, model.config());
      prefix->attach(model);  // peft's placement: decoder self-attention, decoder positions shifted by P
      adapted.methods.push_back(prefix);
    } else {
      const petl::nn::Gpt2Config& c = model.transformer->config;
      auto prefix = peft::PrefixTuning::load_peft(dir, c.n_layer, c.n_head, c.n_embd);
      prefix->attach(sites, model);
      if (adapted.prefix_positions != 0) throw Error(config_path.string() + ": a second peft prefix on GPT-2");
      adapted.prefix_positions = prefix->length;  // peft passes the prefix as a past: positions P .. P+T-1
      peft_decoding(*prefix);
      adapted.methods.push_back(prefix);
    }
  } else if (type == "PROMPT_TUNING") {
    int64_t d = 0;
    if constexpr (bart) d = model.config().d_model;
    else d = model.transformer->config.n_embd;
    auto prompt = peft::PromptTuning::load_peft(dir, d);
    prompt->attach(sites, model);
    peft_decoding(*prompt);
    adapted.methods.push_back(prompt);
  } else {
    throw Error(config_path.string() + ": peft_type \"" + type +
                "\" is not loaded by petl_logits (LORA, IA3, PREFIX_TUNING, PROMPT_TUNING)");
  }
}

template <class Model>
petl::nn::TensorMap run(Model& model, const Args& args, const petl::nn::SafetensorsFile& inputs) {
  Adapted adapted;
  for (const fs::path& dir : args.adapters) load_adapter(model, dir, adapted);
  model.train(false);
  const Tensor ids = read_ids(inputs, "input_ids");
  const Tensor mask = read_ids(inputs, "attention_mask");
  check_same_batch(inputs, ids, mask, "input_ids", "attention_mask");
  if (!args.generate.empty()) {
    if (!adapted.not_for_generation.empty())
      throw UsageError(adapted.not_for_generation + ": --generate with this adapter (AdapterHub's prefix or MAM, or "
                       "peft's prefix and prompt together on GPT-2) was not checked against the libraries' generate(); "
                       "petl_logits gives its logits only");
    petl::nn::GenerationConfig request;
    request.num_beams = args.num_beams;
    request.do_sample = false;
    request.max_new_tokens = args.max_new_tokens;
    const auto defaults = petl::nn::load_generation_config(args.model);
    return {{"sequences", petl::nn::generate(model, ids, mask, request, defaults)}};
  }
  petl::NoGradGuard no_grad;
  if constexpr (std::is_same_v<Model, petl::nn::BartForConditionalGeneration>) {
    const Tensor decoder_ids = read_ids(inputs, "decoder_input_ids");
    if (decoder_ids.size(0) != ids.size(0))
      throw Error(inputs.name() + ": tensor \"decoder_input_ids\" has " + std::to_string(decoder_ids.size(0)) +
                  " rows, expected " + std::to_string(ids.size(0)) + " (the rows of \"input_ids\")");
    return {{"logits", model.forward(ids, mask, decoder_ids)}};
  } else {
    if (adapted.prefix_positions == 0) return {{"logits", model.forward(ids, mask)}};
    const int64_t B = ids.size(0), T = ids.size(1), P = adapted.prefix_positions;
    const Tensor positions = petl::expand(petl::reshape(petl::arange(P, P + T, 1, petl::DType::I64), {1, T}), {B, T});
    return {{"logits", model.forward(ids, mask, positions)}};
  }
}

int run_main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const std::string type = model_type(args.model);
  if (!fs::exists(args.inputs)) throw Error(args.inputs.string() + ": no such file");
  const auto inputs = petl::nn::SafetensorsFile::open(args.inputs);
  petl::nn::TensorMap out;
  if (type == "gpt2") {
    auto model = petl::nn::load_gpt2(args.model);
    out = run(*model, args, inputs);
  } else {
    auto model = petl::nn::load_bart(args.model);
    out = run(*model, args, inputs);
  }
  petl::nn::save_safetensors(args.out, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "petl_logits: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "petl_logits: %s\n", e.what());
    return 1;
  }
}

// petl_logits end to end: the executable (built beside this test) runs the committed model
// directories on the committed batches and must reproduce transformers' logits
// (tests/fixtures/{gpt2,bart}/reference.safetensors, tools/oracle/model_fixtures.py) and
// generate() ids (tests/fixtures/generate/*_cases.json, tools/oracle/generation_fixtures.py);
// every kind of bad input must end in a message naming the problem.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "nn/bart_checkpoint.h"
#include "nn/safetensors.h"
#include "peft/adapterhub_format.h"
#include "peft/peft_format.h"
#include "support/hf_reference.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using petl::Tensor;

// petl_logits sits in the same build directory as this test executable.
fs::path petl_logits_path() { return fs::read_symlink("/proc/self/exe").parent_path() / "petl_logits"; }

fs::path scratch_dir() {
  const fs::path dir = fs::temp_directory_path() / ("petl_test_petl_logits_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

struct Run {
  int status = -1;
  std::string errors;
};

Run run_petl_logits(const std::string& arguments) {
  const fs::path exe = petl_logits_path();
  REQUIRE_MESSAGE(fs::exists(exe), exe.string() << " is missing: build the petl_logits target");
  const fs::path err = scratch_dir() / "stderr.txt";
  const std::string command = exe.string() + " " + arguments + " 2> " + err.string();
  const int raw = std::system(command.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  r.errors = text.str();
  return r;
}

Tensor int_table(const json& rows) {
  std::vector<int64_t> values;
  for (const json& row : rows)
    for (const json& v : row) values.push_back(v.get<int64_t>());
  return petl::from_vector(values, {int64_t(rows.size()), int64_t(rows[0].size())});
}

std::string text_of(const Tensor& t) {
  std::vector<std::vector<int64_t>> rows(size_t(t.size(0)));
  for (int64_t r = 0; r < t.size(0); ++r)
    for (int64_t c = 0; c < t.size(1); ++c) rows[size_t(r)].push_back(int64_t(t.at({r, c})));
  return json(rows).dump();
}

void check_logits(const std::string& name) {
  const fs::path out = scratch_dir() / (name + "_logits.safetensors");
  const std::string dir = "tests/fixtures/" + name;
  const Run r = run_petl_logits("--model " + dir + "/model --inputs " + dir + "/reference.safetensors --out " +
                                out.string());
  INFO(r.errors);
  REQUIRE(r.status == 0);
  const petl::nn::TensorMap ours = petl::nn::load_safetensors(out);
  const petl::testing::HfReference ref = petl::testing::load_reference(dir);
  REQUIRE(ours.count("logits") == 1);
  CHECK(ours.at("logits").dtype() == petl::DType::F32);
  CHECK(ours.at("logits").shape() == ref.tensors.at("logits").shape());
  const double err = petl::testing::relative_error(ours.at("logits"), ref.tensors.at("logits"));
  MESSAGE(name << " logits through petl_logits: relative error " << err);
  CHECK(err <= 1e-5);
}

// The case `case_name` of <name>_cases.json, as --generate `mode`; with `adapter_case`, the case of
// tests/fixtures/peft/generation/<adapter_case>/cases.json, its adapter given as --adapter.
void check_generate(const std::string& name, const std::string& case_name, const std::string& mode,
                    const std::string& adapter_case = "") {
  const std::string peft_dir = "tests/fixtures/peft/generation/" + adapter_case;
  const json fixture = json::parse(std::ifstream(adapter_case.empty() ? "tests/fixtures/generate/" + name + "_cases.json"
                                                                      : peft_dir + "/cases.json"));
  const std::string adapter = adapter_case.empty() ? "" : " --adapter " + peft_dir + "/adapter";
  const fs::path in = scratch_dir() / (name + "_inputs.safetensors");
  const fs::path out = scratch_dir() / (name + "_sequences.safetensors");
  petl::nn::save_safetensors(in, {{"input_ids", int_table(fixture["input_ids"])},
                                  {"attention_mask", int_table(fixture["attention_mask"])}});
  for (const json& c : fixture["cases"]) {
    if (c["name"] != case_name) continue;
    const std::string max_new = std::to_string(c["generate"]["max_new_tokens"].get<int64_t>());
    const Run r = run_petl_logits("--model " + fixture["model"].get<std::string>() + " --inputs " + in.string() +
                                  " --out " + out.string() + " --generate " + mode + " --max-new-tokens " + max_new + adapter);
    INFO(r.errors);
    REQUIRE(r.status == 0);
    const petl::nn::TensorMap ours = petl::nn::load_safetensors(out);
    REQUIRE(ours.count("sequences") == 1);
    CHECK(text_of(ours.at("sequences")) == json(c["sequences"]).dump());
    return;
  }
  FAIL("case " << case_name << " not in the fixture");
}

}  // namespace

TEST_CASE("petl_logits: GPT-2 and BART logits equal transformers' on the committed batches") {
  check_logits("gpt2");
  check_logits("bart");
}

TEST_CASE("petl_logits --generate: greedy and beam ids equal transformers' generate()") {
  check_generate("gpt2", "greedy", "greedy");
  check_generate("gpt2", "beam4", "beam:4");
  check_generate("bart", "greedy", "greedy");
  check_generate("bart", "beam4", "beam:4");
}

TEST_CASE("petl_logits: bad usage and bad inputs give clear errors") {
  const fs::path dir = scratch_dir();
  const std::string model = "--model tests/fixtures/gpt2/model";
  const std::string out = " --out " + (dir / "out.safetensors").string();
  const auto inputs_with = [&](const std::string& file, const petl::nn::TensorMap& tensors) {
    const fs::path path = dir / file;
    petl::nn::save_safetensors(path, tensors);
    return " --inputs " + path.string();
  };
  const Tensor ids = petl::from_vector(std::vector<int64_t>{1, 2, 3, 4}, {2, 2});
  const Tensor mask = petl::from_vector(std::vector<int64_t>{1, 1, 1, 1}, {2, 2});
  struct Case {
    std::string arguments, message;
    int status;
  };
  const std::vector<Case> cases = {
      {model + " --inputs x --out y --frobnicate 1", "unknown argument '--frobnicate'", 2},
      {model + " --inputs x", "missing --out", 2},
      {model + " --inputs x --out y --generate top", "--generate expects greedy or beam:N, got 'top'", 2},
      {model + " --inputs x --out y --generate beam:0", "--generate beam:N expects a positive integer", 2},
      {model + " --inputs x --out y --max-new-tokens 3", "--max-new-tokens only applies with --generate", 2},
      {model + " --inputs x --out y --generate greedy --max-new-tokens -2", "expects a positive integer, got '-2'", 2},
      {"--model " + dir.string() + " --inputs x --out y", "config.json: cannot open", 1},
      {model + " --inputs " + (dir / "absent.safetensors").string() + out, "absent.safetensors: no such file", 1},
      {model + inputs_with("no_mask.safetensors", {{"input_ids", ids}}) + out, "tensor \"attention_mask\" missing", 1},
      {model + inputs_with("float_ids.safetensors", {{"input_ids", petl::ones({2, 2})}, {"attention_mask", mask}}) + out,
       "tensor \"input_ids\" must hold integers (I64 or I32), found F32", 1},
      {model + inputs_with("flat_ids.safetensors", {{"input_ids", petl::from_vector(std::vector<int64_t>{1, 2}, {2})},
                                                    {"attention_mask", mask}}) + out,
       "tensor \"input_ids\" must be [batch, length], found shape [2]", 1},
      {model + inputs_with("short_mask.safetensors",
                           {{"input_ids", ids}, {"attention_mask", petl::from_vector(std::vector<int64_t>{1, 1}, {1, 2})}}) + out,
       "tensor \"attention_mask\" has shape [1, 2], expected the shape of \"input_ids\" [2, 2]", 1},
      {"--model tests/fixtures/bart/model" + inputs_with("no_decoder.safetensors", {{"input_ids", ids}, {"attention_mask", mask}}) + out,
       "tensor \"decoder_input_ids\" missing", 1},
  };
  for (const Case& c : cases) {
    const Run r = run_petl_logits(c.arguments);
    INFO("arguments: " << c.arguments << "\nstderr: " << r.errors);
    CHECK(r.status == c.status);
    CHECK(r.errors.find(c.message) != std::string::npos);
  }
  fs::remove_all(dir);
}

namespace {

// petl_logits --adapter on a committed adapter directory; its logits against the library's, over the
// rows that carry a token (GPT-2 padding excluded) and the first `vocab` entries of each row (0 = all).
void check_adapter(const std::string& model, const std::string& inputs, const std::vector<std::string>& adapters,
                   const std::string& reference, const std::string& key, bool mask_rows) {
  const fs::path out = scratch_dir() / "adapter_logits.safetensors";
  std::string flags;
  for (const std::string& a : adapters) flags += " --adapter " + a;
  const Run r = run_petl_logits("--model " + model + " --inputs " + inputs + " --out " + out.string() + flags);
  INFO(adapters[0] << ": " << r.errors);
  REQUIRE(r.status == 0);
  const Tensor ours = petl::nn::load_safetensors(out).at("logits");
  const petl::nn::TensorMap ref = petl::nn::load_safetensors(reference);
  const Tensor theirs = ref.at(key), mask = petl::nn::load_safetensors(inputs).at("attention_mask");
  REQUIRE(ours.dim() == 3);
  REQUIRE(ours.size(0) == theirs.size(0));
  REQUIRE(ours.size(1) == theirs.size(1));
  const int64_t B = ours.size(0), T = ours.size(1), V = ours.size(2), W = theirs.size(2);
  const int64_t shift = mask_rows ? T - mask.size(1) : 0;  // prompt rows come first (GPT-2 prompt tuning)
  const std::vector<double> a = ours.to_vector(), b = theirs.to_vector(), m = mask.to_vector();
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t t = 0; t < T; ++t) {
      if (mask_rows && (t < shift || m[size_t(i * mask.size(1) + t - shift)] == 0.0)) continue;
      for (int64_t v = 0; v < W; ++v) {
        diff = std::max(diff, std::fabs(a[size_t((i * T + t) * V + v)] - b[size_t((i * T + t) * W + v)]));
        scale = std::max(scale, std::fabs(b[size_t((i * T + t) * W + v)]));
      }
    }
  MESSAGE(adapters[0] << " through petl_logits --adapter: relative error " << diff / scale);
  CHECK(diff / scale <= 1e-5);
}

}  // namespace

TEST_CASE("petl_logits --adapter: peft (prefix GPT-2 and BART, prompt BART) and AdapterHub directories give the "
          "libraries' logits") {
  const std::string gpt2 = "tests/fixtures/gpt2/model", bart = "tests/fixtures/bart/model";
  const std::string peft = "tests/fixtures/peft/";
  // GPT-2 prefix from peft: the positions shift by P as in peft
  check_adapter(gpt2, peft + "prefix_tuning/projected/reference.safetensors", {peft + "prefix_tuning/projected/peft_adapter"},
                peft + "prefix_tuning/projected/reference.safetensors", "logits_after", true);
  check_adapter(bart, peft + "prefix_tuning_bart/peft_projected/reference.safetensors",
                {peft + "prefix_tuning_bart/peft_projected/peft_adapter"},
                peft + "prefix_tuning_bart/peft_projected/reference.safetensors", "logits_after", false);
  check_adapter(bart, peft + "prompt_tuning_bart/peft/reference.safetensors", {peft + "prompt_tuning_bart/peft/peft_adapter"},
                peft + "prompt_tuning_bart/peft/reference.safetensors", "logits_after", false);
  for (const std::string name : {"gpt2_double_seq_bn", "gpt2_scaled_par_bn", "bart_seq_bn", "bart_par_bn"}) {
    const bool is_bart = name.starts_with("bart");
    check_adapter(is_bart ? bart : gpt2, std::string("tests/fixtures/") + (is_bart ? "bart" : "gpt2") + "/reference.safetensors",
                  {peft + "adapterhub_format/" + name + "/adapter"},
                  peft + "adapterhub_format/" + name + "/reference.safetensors", "logits_head", !is_bart);
  }
}

TEST_CASE("petl_logits --adapter: bad adapter directories and --generate with an AdapterHub prefix are clear errors") {
  const fs::path out = scratch_dir() / "adapter_logits.safetensors";
  const std::string base = "--model tests/fixtures/bart/model --inputs tests/fixtures/bart/reference.safetensors --out " +
                           out.string();
  Run r = run_petl_logits(base + " --adapter tests/fixtures/bart/model");
  CHECK(r.status == 1);
  CHECK(r.errors.find("tests/fixtures/bart/model/adapter_config.json") != std::string::npos);
  r = run_petl_logits(base + " --adapter tests/fixtures/peft/adapterhub_format/gpt2_seq_bn/adapter");
  CHECK(r.status == 1);
  CHECK(r.errors.find("model_type is \"gpt2\", the model is \"bart\"") != std::string::npos);
  r = run_petl_logits(base + " --adapter tests/fixtures/no/such/dir");
  CHECK(r.status == 1);
  CHECK(r.errors.find("--adapter expects a directory") != std::string::npos);
  // AdapterHub's prefix under decoding was not compared with its generate() (peft's is: the case above)
  r = run_petl_logits(base + " --adapter tests/fixtures/peft/adapterhub_format/bart_prefix/adapter --generate greedy");
  CHECK(r.status == 2);
  CHECK(r.errors.find("not checked") != std::string::npos);
}

TEST_CASE("petl_logits --adapter is repeatable: a peft LoRA and an AdapterHub SeqBn stack on BART as the C++ API stacks them") {
  const std::string lora = "tests/fixtures/peft/lora_bart/adapter";
  const std::string seq_bn = "tests/fixtures/peft/adapterhub_format/bart_seq_bn/adapter";
  const fs::path out = scratch_dir() / "stacked_logits.safetensors";
  const Run r = run_petl_logits("--model tests/fixtures/bart/model --inputs tests/fixtures/bart/reference.safetensors --out " +
                                out.string() + " --adapter " + lora + " --adapter " + seq_bn);
  INFO(r.errors);
  REQUIRE(r.status == 0);
  auto model = petl::nn::load_bart("tests/fixtures/bart/model");
  petl::nn::SiteMap sites = model->sites();
  auto loaded_lora = petl::peft::load_peft_lora(*model, sites, lora);
  auto loaded_seq_bn = petl::peft::load_adapterhub(*model, seq_bn);
  model->train(false);
  const petl::nn::TensorMap ref = petl::nn::load_safetensors("tests/fixtures/bart/reference.safetensors");
  petl::NoGradGuard no_grad;
  const Tensor stacked = model->forward(ref.at("input_ids"), ref.at("attention_mask"), ref.at("decoder_input_ids"));
  const Tensor ours = petl::nn::load_safetensors(out).at("logits");
  CHECK(petl::testing::max_abs_diff(ours.to_vector(), stacked.to_vector()) == 0.0);
  // each adapter contributes: the stack differs from either one alone
  for (const std::string& alone : {lora, seq_bn}) {
    const fs::path one = scratch_dir() / "one_logits.safetensors";
    const Run single = run_petl_logits("--model tests/fixtures/bart/model --inputs tests/fixtures/bart/reference.safetensors "
                                       "--out " + one.string() + " --adapter " + alone);
    REQUIRE(single.status == 0);
    CHECK(petl::testing::max_abs_diff(petl::nn::load_safetensors(one).at("logits").to_vector(), ours.to_vector()) > 1e-4);
  }
}

TEST_CASE("petl_logits --adapter --generate: peft's prefix and prompt adapters give peft generate()'s ids") {
  // tools/oracle/peft_generation_fixtures.py; GPT-2 numbers positions as peft does (peft/generation.h)
  check_generate("gpt2", "greedy", "greedy", "gpt2_prefix_flat");
  check_generate("gpt2", "beam3", "beam:3", "gpt2_prompt");
  check_generate("bart", "greedy", "greedy", "bart_prefix_projected");
  check_generate("bart", "beam3", "beam:3", "bart_prompt");
}

#include "train/tool/model_io.h"

#include <unistd.h>

#include <cstdlib>

#include <algorithm>

#include "nn/bart_checkpoint.h"
#include "nn/checkpoint.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/state_dict.h"
#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"

namespace petl::tool {

namespace fs = std::filesystem;

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = {"gpt2", "bart"};
  return types;
}

int64_t LoadedModel::positions() const {
  return bart ? bart->config().max_position_embeddings : model->config().n_positions;
}

namespace {

// config.json's model_type ("gpt2" when absent); an unsupported one is an error listing the supported.
std::string read_model_type(const fs::path& file) {
  const nlohmann::json config = data::parse_json(data::read_text_file(file.string()), file.string());
  PETL_CHECK(config.is_object(), file.string(), ": expected a JSON object");
  if (!config.contains("model_type")) return "gpt2";
  PETL_CHECK(config["model_type"].is_string(), file.string(), ": field 'model_type' must be a string, found ",
             config["model_type"].dump());
  const std::string type = config["model_type"].get<std::string>();
  std::string valid;
  for (const auto& t : supported_model_types()) valid += (valid.empty() ? "" : ", ") + t;
  PETL_CHECK(std::find(supported_model_types().begin(), supported_model_types().end(), type) !=
                 supported_model_types().end(),
             file.string(), ": model_type '", type, "' is not supported (supported: ", valid, ")");
  return type;
}

}  // namespace

LoadedModel load_model_dir(const fs::path& dir, std::optional<double> dropout) {
  const std::string what =
      " (a GPT-2 or BART model directory holds config.json, model.safetensors, vocab.json and merges.txt)";
  PETL_CHECK(fs::is_directory(dir), "model directory ", dir.string(), " does not exist", what);
  PETL_CHECK(fs::exists(dir / "config.json"), "model directory ", dir.string(), " lacks config.json", what);
  PETL_CHECK(fs::exists(dir / nn::kSafetensorsWeights) || fs::exists(dir / nn::kSafetensorsIndex), "model directory ",
             dir.string(), " lacks model.safetensors (or model.safetensors.index.json)", what);
  PETL_CHECK((fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) || fs::exists(dir / "tokenizer.json"),
             "model directory ", dir.string(), " lacks its tokenizer: vocab.json and merges.txt (or tokenizer.json)",
             what);
  LoadedModel loaded;
  int64_t vocab_size = 0;
  if (read_model_type(dir / "config.json") == "bart") {
    nn::BartConfig config = nn::BartConfig::from_file(dir / "config.json");
    if (dropout) config.dropout = *dropout;
    loaded.bart = std::make_unique<nn::BartForConditionalGeneration>(config);
    nn::load_state_dict(*loaded.bart, nn::Checkpoint::open_dir(dir), nn::bart_key_map());
    vocab_size = config.vocab_size;
  } else {
    nn::Gpt2Config config = nn::Gpt2Config::from_file(dir / "config.json");
    if (dropout) config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = *dropout;
    loaded.model = std::make_unique<nn::Gpt2LMHead>(config);
    nn::load_state_dict(*loaded.model, nn::Checkpoint::open_dir(dir), nn::gpt2_key_map());
    vocab_size = config.vocab_size;
  }
  loaded.tokenizer = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(dir));
  PETL_CHECK(int64_t(loaded.tokenizer->vocab_size()) <= vocab_size, "model directory ", dir.string(),
             ": the tokenizer has ", loaded.tokenizer->vocab_size(), " tokens but config.json vocab_size is ",
             vocab_size);
  loaded.dir = dir;
  return loaded;
}

void save_model_dir(const nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tokenizer, const fs::path& dir) {
  nn::save_gpt2(model, dir);
  tokenizer.save(dir);
}

void save_model_dir(const nn::BartForConditionalGeneration& model, const tokenizer::ModelTokenizer& tokenizer,
                    const fs::path& dir) {
  nn::save_bart(model, dir);
  tokenizer.save(dir);
}

void save_model_dir(const LoadedModel& loaded, const fs::path& dir) {
  if (loaded.bart)
    save_model_dir(*loaded.bart, *loaded.tokenizer, dir);
  else
    save_model_dir(*loaded.model, *loaded.tokenizer, dir);
}

fs::path repository_root() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
      if (fs::is_directory(p / "train" / "tool") && fs::exists(p / "CMakeLists.txt")) return p;
  }
  return fs::current_path();
}

std::string shared_data_dir() {
  if (const char* dir = std::getenv("PETL_DATA_DIR"); dir && *dir) return dir;
  return (repository_root() / ".." / "shared" / "data").lexically_normal().string();
}

}  // namespace petl::tool

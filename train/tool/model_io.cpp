#include "train/tool/model_io.h"

#include <unistd.h>

#include <cstdlib>

#include "nn/checkpoint.h"
#include "nn/gpt2_checkpoint.h"
#include "nn/state_dict.h"
#include "tensor/error.h"

namespace petl::tool {

namespace fs = std::filesystem;

LoadedModel load_model_dir(const fs::path& dir, std::optional<double> dropout) {
  const std::string what = " (a GPT-2 model directory holds config.json, model.safetensors, vocab.json and merges.txt)";
  PETL_CHECK(fs::is_directory(dir), "model directory ", dir.string(), " does not exist", what);
  PETL_CHECK(fs::exists(dir / "config.json"), "model directory ", dir.string(), " lacks config.json", what);
  PETL_CHECK(fs::exists(dir / nn::kSafetensorsWeights) || fs::exists(dir / nn::kSafetensorsIndex), "model directory ",
             dir.string(), " lacks model.safetensors (or model.safetensors.index.json)", what);
  PETL_CHECK((fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) || fs::exists(dir / "tokenizer.json"),
             "model directory ", dir.string(), " lacks its tokenizer: vocab.json and merges.txt (or tokenizer.json)",
             what);
  nn::Gpt2Config config = nn::Gpt2Config::from_file(dir / "config.json");
  if (dropout) config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = *dropout;
  LoadedModel loaded;
  loaded.model = std::make_unique<nn::Gpt2LMHead>(config);
  nn::load_state_dict(*loaded.model, nn::Checkpoint::open_dir(dir), nn::gpt2_key_map());
  loaded.tokenizer = std::make_shared<tokenizer::ModelTokenizer>(tokenizer::ModelTokenizer::load(dir));
  PETL_CHECK(int64_t(loaded.tokenizer->vocab_size()) <= config.vocab_size, "model directory ", dir.string(),
             ": the tokenizer has ", loaded.tokenizer->vocab_size(), " tokens but config.json vocab_size is ",
             config.vocab_size);
  loaded.dir = dir;
  return loaded;
}

void save_model_dir(const nn::Gpt2LMHead& model, const tokenizer::ModelTokenizer& tokenizer, const fs::path& dir) {
  nn::save_gpt2(model, dir);
  tokenizer.save(dir);
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

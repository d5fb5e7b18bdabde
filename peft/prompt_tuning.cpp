#include "peft/prompt_tuning.h"

#include <nlohmann/json.hpp>

#include "nn/atomic_file.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

PromptTuning::PromptTuning(int64_t length_, int64_t d, Generator& gen) : length(length_), width(d) {
  PETL_CHECK(length > 0 && d > 0, "PromptTuning: need P > 0 and d > 0, got P=", length, " d=", d);
  embedding = register_module("embedding", std::make_shared<nn::Embedding>(length, d, 1.0, gen));
}

void PromptTuning::init_from_tokens(const Tensor& wte, const std::vector<int64_t>& ids) {
  PETL_CHECK(!ids.empty() && wte.dim() == 2 && wte.size(1) == width, "PromptTuning::init_from_tokens: need token ids "
             "and an embedding table [V, ", width, "], got ", ids.size(), " ids and ", shape_str(wte.shape()));
  std::vector<int64_t> rows;
  for (int64_t p = 0; p < length; ++p) rows.push_back(ids[size_t(p) % ids.size()]);
  for (int64_t id : rows)
    PETL_CHECK(id >= 0 && id < wte.size(0), "PromptTuning::init_from_tokens: token id ", id, " outside [0, ",
               wte.size(0), ")");
  NoGradGuard no_grad;
  kernel::copy_(embedding->weight, petl::embedding(wte, from_vector(rows, {length})));
}

nn::EmbeddedTokens PromptTuning::apply(nn::EmbeddedTokens tokens) {
  const int64_t B = tokens.embeds.size(0);
  const Tensor prompts = expand(reshape(embedding->weight, {1, length, width}), {B, length, width});
  tokens.embeds = concat({prompts, tokens.embeds}, 1);  // [B, P + T, d]
  tokens.mask = concat({ones({B, length}, DType::F32, tokens.mask.device()), tokens.mask}, 1);
  return tokens;
}

Tensor PromptTuning::extend_labels(const Tensor& labels) const {
  PETL_CHECK(labels.dim() == 2 && labels.dtype() == DType::I64, "PromptTuning::extend_labels: labels must be int64 "
             "[B, T], got ", dtype_name(labels.dtype()), " ", shape_str(labels.shape()));
  const Tensor ignored = kernel::to(ones({labels.size(0), length}) * -100.0, DType::I64);
  return concat({ignored, labels}, 1);
}

void PromptTuning::attach(nn::SiteMap& sites, const nn::Module& base) {
  PETL_CHECK(!site_, "PromptTuning: already attached");
  PETL_CHECK(!sites.embeddings.empty(), "PromptTuning: the model has no embedding site");
  base.set_trainable(false);
  site_ = sites.embeddings.front().second;  // GPT-2: transformer.wte; BART: the encoder's (first)
  // non-owning: the PromptTuning must outlive the attachment (detach() removes it)
  site_->attach(std::shared_ptr<nn::EmbeddingHook>(std::shared_ptr<nn::EmbeddingHook>(), this));
}

void PromptTuning::detach() {
  if (site_) site_->detach(this);
  site_ = nullptr;
}

void PromptTuning::save_peft(const std::filesystem::path& dir, int64_t layers, int64_t heads,
                             const std::string& base_model, const std::string& task_type) const {
  PETL_CHECK(task_type == "CAUSAL_LM" || task_type == "SEQ_2_SEQ_LM", "PromptTuning::save_peft: task_type must be "
             "CAUSAL_LM or SEQ_2_SEQ_LM, got '", task_type, "'");
  const int64_t submodules = task_type == "SEQ_2_SEQ_LM" ? 2 : 1;
  nlohmann::json config = {{"peft_type", "PROMPT_TUNING"}, {"task_type", task_type},
                           {"num_virtual_tokens", length}, {"token_dim", width}, {"num_layers", layers},
                           {"num_attention_heads", heads}, {"num_transformer_submodules", submodules},
                           {"prompt_tuning_init", "RANDOM"}, {"prompt_tuning_init_text", nullptr},
                           {"tokenizer_name_or_path", nullptr}, {"tokenizer_kwargs", nullptr},
                           {"inference_mode", true}, {"modules_to_save", nullptr}, {"revision", nullptr},
                           {"base_model_name_or_path", base_model.empty() ? nlohmann::json() : nlohmann::json(base_model)},
                           {"auto_mapping", nullptr}};
  std::filesystem::create_directories(dir);
  const Tensor E = contiguous(embedding->weight).detach();
  nn::save_safetensors(dir / "adapter_model.safetensors",
                       {{"prompt_embeddings", submodules == 1 ? E : contiguous(concat({E, E}, 0))}});
  nn::write_file_atomic(dir / "adapter_config.json", config.dump(2) + "\n");
}

std::shared_ptr<PromptTuning> PromptTuning::load_peft(const std::filesystem::path& dir, int64_t d) {
  const std::filesystem::path config_path = dir / "adapter_config.json";
  const nlohmann::json config = nn::read_json_file(config_path);
  auto field = [&](const char* key) -> const nlohmann::json& {
    PETL_CHECK(config.is_object() && config.contains(key), config_path.string(), ": missing field '", key, "'");
    return config.at(key);
  };
  PETL_CHECK(field("peft_type") == "PROMPT_TUNING", config_path.string(), ": peft_type is ", field("peft_type").dump(),
             ", expected \"PROMPT_TUNING\"");
  const nlohmann::json& P = field("num_virtual_tokens");
  PETL_CHECK(P.is_number_integer() && P.get<int64_t>() > 0, config_path.string(),
             ": num_virtual_tokens must be a positive integer, got ", P.dump());
  const nlohmann::json& dim = field("token_dim");
  PETL_CHECK(dim.is_number_integer() && dim.get<int64_t>() == d, config_path.string(), ": token_dim is ", dim.dump(),
             ", the model has ", d);
  const std::filesystem::path weights = dir / "adapter_model.safetensors";
  nn::TensorMap tensors = nn::load_safetensors(weights);
  auto it = tensors.find("prompt_embeddings");
  PETL_CHECK(it != tensors.end(), weights.string(), ": no tensor 'prompt_embeddings'");
  // seq2seq files hold P x num_transformer_submodules rows; prompt tuning uses the first P
  const int64_t n = P.get<int64_t>();
  PETL_CHECK(it->second.dim() == 2 && it->second.size(1) == d && it->second.size(0) >= n && it->second.size(0) % n == 0,
             weights.string(), ": prompt_embeddings is ", shape_str(it->second.shape()), ", expected [", n, " (x submodules), ",
             d, "]");
  Generator unused(0);
  auto prompt = std::make_shared<PromptTuning>(n, d, unused);
  kernel::copy_(prompt->embedding->weight, slice(kernel::to(it->second, DType::F32), 0, 0, n));
  return prompt;
}

}  // namespace petl::peft

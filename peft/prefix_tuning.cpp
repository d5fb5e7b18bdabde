#include "peft/prefix_tuning.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "nn/atomic_file.h"
#include "nn/safetensors.h"
#include "nn/strict_json.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

namespace {
// torch's nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT.md §0.4 kaiming_a5).
void torch_default_init(nn::Linear& layer, int64_t in, Generator& gen) {
  const double bound = 1.0 / std::sqrt(double(in));
  kernel::copy_(layer.weight, uniform(layer.weight.shape(), -bound, bound, DType::F32, Device::cpu(), gen));
  kernel::copy_(layer.bias, uniform(layer.bias.shape(), -bound, bound, DType::F32, Device::cpu(), gen));
}
}  // namespace

struct PrefixTuning::LayerHook : nn::KeyValueHook {
  LayerHook(const PrefixTuning* owner_, int64_t layer_, bool first_) : owner(owner_), layer(layer_), first(first_) {}
  nn::KeyValueRows rows(int64_t) override {
    // the attentions run in order within a forward: the first evaluates R, the others reuse it
    if (first || !owner->current_table_.defined()) owner->current_table_ = owner->table();
    return owner->layer_rows(owner->current_table_, layer);
  }
  const PrefixTuning* owner;
  int64_t layer;
  bool first;
};

PrefixTuning::PrefixTuning(int64_t layers_, int64_t heads_, int64_t d, PrefixTuningOptions options, Generator& gen)
    : layers(layers_), heads(heads_), width(d), length(options.length), projection(options.projection) {
  PETL_CHECK(layers > 0 && heads > 0 && d > 0 && d % heads == 0 && length > 0 && (!projection || options.hidden > 0),
             "PrefixTuning: need layers, heads, P, k > 0 and heads dividing d; got L=", layers, " N_h=", heads,
             " d=", d, " P=", length, " k=", options.hidden);
  const int64_t out = 2 * layers * d;
  embedding = register_module("embedding", std::make_shared<nn::Embedding>(length, projection ? d : out, 1.0, gen));
  if (projection) {
    transform0 = register_module("transform.0", std::make_shared<nn::Linear>(d, options.hidden, true, 0.0, gen,
                                                                             nn::WeightLayout::OutIn));
    transform2 = register_module("transform.2", std::make_shared<nn::Linear>(options.hidden, out, true, 0.0, gen,
                                                                             nn::WeightLayout::OutIn));
    torch_default_init(*transform0, d, gen);
    torch_default_init(*transform2, options.hidden, gen);
  }
}

PrefixTuning::PrefixTuning(int64_t layers_, int64_t heads_, const Tensor& table_)
    : layers(layers_), heads(heads_), width(table_.dim() == 2 ? table_.size(1) / (2 * layers_) : 0),
      length(table_.dim() == 2 ? table_.size(0) : 0), projection(false) {
  PETL_CHECK(table_.dim() == 2 && layers > 0 && heads > 0 && table_.size(1) == 2 * layers * width && width % heads == 0,
             "PrefixTuning: a table must be [P, 2 L d] with L=", layers, " and heads=", heads, " dividing d; got ",
             shape_str(table_.shape()));
  Generator unused(0);
  embedding = register_module("embedding", std::make_shared<nn::Embedding>(length, 2 * layers * width, 0.0, unused));
  kernel::copy_(embedding->weight, table_);
}

Tensor PrefixTuning::table() const {
  if (!projection) return embedding->weight;
  // R = tanh(E W1 + b1) W2 + b2  (PEFT.md §3.2)
  return transform2->forward(tanh(transform0->forward(embedding->weight)));
}

nn::KeyValueRows PrefixTuning::layer_rows(const Tensor& R, int64_t layer) const {
  PETL_CHECK(layer >= 0 && layer < layers, "PrefixTuning: layer ", layer, " outside [0, ", layers, ")");
  const int64_t d_h = width / heads;
  const Tensor view = reshape(R, {length, 2 * layers, heads, d_h});  // [p, 2i + c, j, t]
  auto part = [&](int64_t c) {
    const Tensor rows = reshape(slice(view, 1, 2 * layer + c, 2 * layer + c + 1), {length, heads, d_h});
    return reshape(permute(rows, {1, 0, 2}), {1, heads, length, d_h});  // [1, N_h, P, d_h]
  };
  return {part(0), part(1)};
}

std::shared_ptr<PrefixTuning> PrefixTuning::folded() const {
  NoGradGuard no_grad;
  return std::make_shared<PrefixTuning>(layers, heads, contiguous(table()).detach());
}

void PrefixTuning::attach(nn::SiteMap& sites, const nn::Module& base) {
  PETL_CHECK(int64_t(sites.key_values.size()) == layers, "PrefixTuning: built for ", layers,
             " attention layers, the model has ", sites.key_values.size());
  std::vector<nn::KeyValueSite*> chosen;
  std::vector<int64_t> slots;
  for (int64_t i = 0; i < layers; ++i) {
    chosen.push_back(sites.key_values[size_t(i)].second);
    slots.push_back(i);
  }
  attach_to(chosen, slots, base);
}

void PrefixTuning::attach_to(const std::vector<nn::KeyValueSite*>& sites, const std::vector<int64_t>& slots,
                             const nn::Module& base) {
  PETL_CHECK(attached_.empty(), "PrefixTuning: already attached");
  PETL_CHECK(!sites.empty() && sites.size() == slots.size(), "PrefixTuning: need one layer slot per site, got ",
             sites.size(), " sites and ", slots.size(), " slots");
  for (int64_t slot : slots)
    PETL_CHECK(slot >= 0 && slot < layers, "PrefixTuning: layer slot ", slot, " outside [0, ", layers, ")");
  base.set_trainable(false);
  for (size_t n = 0; n < sites.size(); ++n) {
    auto hook = std::make_shared<LayerHook>(this, slots[n], n == 0);
    sites[n]->attach(hook);
    attached_.emplace_back(sites[n], hook);
  }
}

void PrefixTuning::detach() {
  for (auto& [site, hook] : attached_) site->detach(hook.get());
  attached_.clear();
  current_table_ = Tensor();
}

Tensor PrefixTuning::positions(int64_t batch, int64_t tokens) const {
  return expand(reshape(arange(length, length + tokens, 1, DType::I64), {1, tokens}), {batch, tokens});
}

void PrefixTuning::save_peft(const std::filesystem::path& dir, const std::string& base_model,
                             const std::string& task_type) const {
  PETL_CHECK(task_type == "CAUSAL_LM" || task_type == "SEQ_2_SEQ_LM", "PrefixTuning::save_peft: task_type must be "
             "CAUSAL_LM or SEQ_2_SEQ_LM, got '", task_type, "'");
  const Tensor R = folded()->embedding->weight;
  nlohmann::json config = {{"peft_type", "PREFIX_TUNING"}, {"task_type", task_type},
                           {"num_virtual_tokens", length}, {"token_dim", width},
                           {"num_layers", layers}, {"num_attention_heads", heads},
                           {"num_transformer_submodules", task_type == "SEQ_2_SEQ_LM" ? 2 : 1}, {"prefix_projection", false},
                           {"encoder_hidden_size", width}, {"inference_mode", true},
                           {"init_weights", nullptr}, {"modules_to_save", nullptr}, {"revision", nullptr},
                           {"base_model_name_or_path", base_model.empty() ? nlohmann::json() : nlohmann::json(base_model)},
                           {"auto_mapping", nullptr}};
  std::filesystem::create_directories(dir);
  nn::save_safetensors(dir / "adapter_model.safetensors", {{"prompt_embeddings", R}});
  nn::write_file_atomic(dir / "adapter_config.json", config.dump(2) + "\n");
}

std::shared_ptr<PrefixTuning> PrefixTuning::load_peft(const std::filesystem::path& dir, int64_t layers, int64_t heads,
                                                      int64_t d) {
  const std::filesystem::path config_path = dir / "adapter_config.json";
  const nlohmann::json config = nn::read_json_file(config_path);
  auto field = [&](const char* key) -> const nlohmann::json& {
    PETL_CHECK(config.is_object() && config.contains(key), config_path.string(), ": missing field '", key, "'");
    return config.at(key);
  };
  PETL_CHECK(field("peft_type") == "PREFIX_TUNING", config_path.string(), ": peft_type is ", field("peft_type").dump(),
             ", expected \"PREFIX_TUNING\"");
  auto expect = [&](const char* key, int64_t want) {
    const nlohmann::json& v = field(key);
    PETL_CHECK(v.is_number_integer() && v.get<int64_t>() == want, config_path.string(), ": ", key, " is ", v.dump(),
               ", the model has ", want);
  };
  expect("num_layers", layers);
  expect("token_dim", d);
  expect("num_attention_heads", heads);
  const nlohmann::json& P = field("num_virtual_tokens");
  PETL_CHECK(P.is_number_integer() && P.get<int64_t>() > 0, config_path.string(),
             ": num_virtual_tokens must be a positive integer, got ", P.dump());
  const std::filesystem::path weights = dir / "adapter_model.safetensors";
  nn::TensorMap tensors = nn::load_safetensors(weights);
  auto it = tensors.find("prompt_embeddings");
  PETL_CHECK(it != tensors.end(), weights.string(), ": no tensor 'prompt_embeddings'");
  const Shape want{P.get<int64_t>(), 2 * layers * d};
  PETL_CHECK(it->second.shape() == want, weights.string(), ": prompt_embeddings is ", shape_str(it->second.shape()),
             ", expected ", shape_str(want), " (num_virtual_tokens x 2 num_layers token_dim)");
  return std::make_shared<PrefixTuning>(layers, heads, kernel::to(it->second, DType::F32));
}

}  // namespace petl::peft

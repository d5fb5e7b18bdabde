#include "peft/bart_prefix.h"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/strict_json.h"
#include "tensor/error.h"

namespace petl::peft {

namespace {
nn::KeyValueSite* site_named(const nn::SiteMap& sites, const std::string& name) {
  for (const auto& [site_name, site] : sites.key_values)
    if (site_name == name) return site;
  throw Error(detail::concat("BartPrefixTuning: the model has no attention '", name, "'"));
}
}  // namespace

BartPrefixTuning::BartPrefixTuning(const nn::BartConfig& config, BartPrefixPlacement placement_, int64_t length_)
    : placement(placement_), length(length_), config_(config) {
  PETL_CHECK(config.encoder_attention_heads == config.decoder_attention_heads, "BartPrefixTuning: encoder and decoder "
             "need the same number of heads, got ", config.encoder_attention_heads, " and ",
             config.decoder_attention_heads);
}

BartPrefixTuning::BartPrefixTuning(const nn::BartConfig& config, BartPrefixOptions o, Generator& gen)
    : BartPrefixTuning(config, o.placement, o.prefix.length) {
  const int64_t d = config.d_model, heads = config.decoder_attention_heads;
  if (placement == BartPrefixPlacement::Peft) {
    // one network with num_hidden_layers = encoder_layers slots (peft's config)
    self_prefix = register_module("self_prefix", std::make_shared<PrefixTuning>(config.encoder_layers, heads, d, o.prefix, gen));
    return;
  }
  // AdapterHub's creation order (PrefixTuningPool.confirm_prefix): encoder, self, cross
  encoder_prefix = register_module("encoder_prefix", std::make_shared<PrefixTuning>(config.encoder_layers, heads, d, o.prefix, gen));
  self_prefix = register_module("self_prefix", std::make_shared<PrefixTuning>(config.decoder_layers, heads, d, o.prefix, gen));
  cross_prefix = register_module("cross_prefix", std::make_shared<PrefixTuning>(config.decoder_layers, heads, d, o.prefix, gen));
}

BartPrefixTuning::BartPrefixTuning(const nn::BartConfig& config, std::shared_ptr<PrefixTuning> table)
    : BartPrefixTuning(config, BartPrefixPlacement::Peft, table->length) {
  PETL_CHECK(table->layers == config.encoder_layers && table->width == config.d_model &&
                 table->heads == config.decoder_attention_heads,
             "BartPrefixTuning: a peft table needs L = encoder_layers = ", config.encoder_layers, ", d = ",
             config.d_model, ", heads = ", config.decoder_attention_heads, "; got L=", table->layers, " d=",
             table->width, " heads=", table->heads);
  self_prefix = register_module("self_prefix", std::move(table));
}

void BartPrefixTuning::attach(nn::BartForConditionalGeneration& model) {
  PETL_CHECK(!attached_, "BartPrefixTuning: already attached");
  const nn::SiteMap sites = model.sites();
  const int64_t L_dec = config_.decoder_layers;
  auto decoder = [](int64_t i, const char* attention) {
    return "model.decoder.layers." + std::to_string(i) + "." + attention;
  };
  if (placement == BartPrefixPlacement::Peft) {
    std::vector<nn::KeyValueSite*> self;
    std::vector<int64_t> slots;
    // peft's cache has L = encoder_layers entries (its 4L rows split by 4): decoder layers past L
    // get no prefix; layer i reads slot 2i mod L (the view concatenated with itself, then split by 4)
    for (int64_t i = 0; i < std::min(L_dec, self_prefix->layers); ++i) {
      self.push_back(site_named(sites, decoder(i, "self_attn")));
      slots.push_back((2 * i) % self_prefix->layers);
    }
    self_prefix->attach_to(self, slots, model);
    model.model->decoder->embed.position_shift = length;
  } else {
    std::vector<nn::KeyValueSite*> enc, self, cross;
    std::vector<int64_t> enc_slots, dec_slots;
    for (int64_t i = 0; i < config_.encoder_layers; ++i) {
      enc.push_back(site_named(sites, "model.encoder.layers." + std::to_string(i) + ".self_attn"));
      enc_slots.push_back(i);
    }
    for (int64_t i = 0; i < L_dec; ++i) {
      self.push_back(site_named(sites, decoder(i, "self_attn")));
      cross.push_back(site_named(sites, decoder(i, "encoder_attn")));
      dec_slots.push_back(i);
    }
    encoder_prefix->attach_to(enc, enc_slots, model);
    self_prefix->attach_to(self, dec_slots, model);
    cross_prefix->attach_to(cross, dec_slots, model);
  }
  attached_ = &model;
}

void BartPrefixTuning::detach() {
  for (const auto& network : {encoder_prefix, self_prefix, cross_prefix})
    if (network) network->detach();
  if (attached_) attached_->model->decoder->embed.position_shift = 0;
  attached_ = nullptr;
}

std::shared_ptr<BartPrefixTuning> BartPrefixTuning::folded() const {
  auto flat = std::shared_ptr<BartPrefixTuning>(new BartPrefixTuning(config_, placement, length));
  if (encoder_prefix) flat->encoder_prefix = flat->register_module("encoder_prefix", encoder_prefix->folded());
  flat->self_prefix = flat->register_module("self_prefix", self_prefix->folded());
  if (cross_prefix) flat->cross_prefix = flat->register_module("cross_prefix", cross_prefix->folded());
  return flat;
}

void BartPrefixTuning::save_peft(const std::filesystem::path& dir, const std::string& base_model) const {
  PETL_CHECK(placement == BartPrefixPlacement::Peft, "BartPrefixTuning::save_peft: peft's SEQ_2_SEQ_LM prefix "
             "tuning only has decoder self-attention prefixes (slot 2i mod L); this prefix uses the paper's placement "
             "(encoder, decoder self and cross networks), which peft's format cannot hold");
  self_prefix->save_peft(dir, base_model, "SEQ_2_SEQ_LM");
}

std::shared_ptr<BartPrefixTuning> BartPrefixTuning::load_peft(const std::filesystem::path& dir,
                                                              const nn::BartConfig& config) {
  const std::filesystem::path config_path = dir / "adapter_config.json";
  const nlohmann::json json = nn::read_json_file(config_path);
  const nlohmann::json task = json.is_object() && json.contains("task_type") ? json.at("task_type") : nlohmann::json();
  PETL_CHECK(task == "SEQ_2_SEQ_LM", config_path.string(), ": task_type is ", task.dump(),
             ", expected \"SEQ_2_SEQ_LM\" (a prefix for an encoder-decoder model)");
  auto table = PrefixTuning::load_peft(dir, config.encoder_layers, config.decoder_attention_heads, config.d_model);
  return std::make_shared<BartPrefixTuning>(config, std::move(table));
}

}  // namespace petl::peft

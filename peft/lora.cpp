#include "peft/lora.h"

#include <cmath>

#include "autograd/ops.h"
#include "tensor/error.h"

namespace petl::peft {

double LoraOptions::scaling() const {
  return use_rslora ? alpha / std::sqrt(double(r)) : alpha / double(r);
}

LoraLinear::LoraLinear(const LinearTarget& t, const LoraOptions& o, Generator& init)
    : target(t), options(o), dropout_gen_(init.seed() + 1) {
  PETL_CHECK(o.r > 0, "LoRA on '", t.name, "': rank r must be positive, got ", o.r);
  PETL_CHECK(!o.enabled_blocks.empty() && t.out % int64_t(o.enabled_blocks.size()) == 0, "LoRA on '", t.name,
             "': ", t.out, " output features do not split into ", o.enabled_blocks.size(), " blocks");
  int64_t on = 0;
  for (bool b : o.enabled_blocks) on += b;
  PETL_CHECK(on > 0, "LoRA on '", t.name, "': no output block is enabled");
  // kaiming_uniform_(a=sqrt(5)) on a [r, d_in] weight: U(-1/sqrt(d_in), 1/sqrt(d_in)) (PEFT.md §0.4)
  const double bound = 1.0 / std::sqrt(double(t.in));
  lora_A = register_parameter("lora_A.weight", uniform({on * o.r, t.in}, -bound, bound, DType::F32,
                                                       t.weight.device(), init));
  lora_B = register_parameter("lora_B.weight", zeros({on * block_width(), o.r}, DType::F32, t.weight.device()));
}

int64_t LoraLinear::block_width() const { return target.out / int64_t(options.enabled_blocks.size()); }

Tensor LoraLinear::apply(const Tensor& x, const Tensor& y) {
  if (merged_) return y;
  const Tensor xa = matmul(dropout(x, options.dropout, training(), dropout_gen_), transpose(lora_A, 0, 1));
  const double s = options.scaling();
  if (options.enabled_blocks.size() == 1) return y + matmul(xa, transpose(lora_B, 0, 1)) * s;  // y + s x A B
  // column blocks: block i of y gets s (x A_i) B_i when enabled, nothing otherwise
  const int64_t r = options.r, w = block_width(), last = y.dim() - 1, last_xa = xa.dim() - 1;
  std::vector<Tensor> blocks;
  int64_t k = 0;
  for (size_t i = 0; i < options.enabled_blocks.size(); ++i) {
    Tensor yi = slice(y, last, int64_t(i) * w, int64_t(i + 1) * w);
    if (options.enabled_blocks[i]) {
      const Tensor Bi = slice(lora_B, 0, k * w, (k + 1) * w);  // [w, r]
      yi = yi + matmul(slice(xa, last_xa, k * r, (k + 1) * r), transpose(Bi, 0, 1)) * s;
      ++k;
    }
    blocks.push_back(yi);
  }
  return concat(blocks, last);
}

Tensor LoraLinear::delta_weight() const {
  const int64_t r = options.r, w = block_width();
  std::vector<Tensor> columns;
  int64_t k = 0;
  for (bool on : options.enabled_blocks) {
    if (on) {
      const Tensor Ai = slice(lora_A, 0, k * r, (k + 1) * r), Bi = slice(lora_B, 0, k * w, (k + 1) * w);
      columns.push_back(matmul(transpose(Ai, 0, 1), transpose(Bi, 0, 1)));  // A_i B_i [d_in, w]
      ++k;
    } else {
      columns.push_back(zeros({target.in, w}, DType::F32, lora_A.device()));
    }
  }
  return concat(columns, 1) * options.scaling();
}

void LoraLinear::merge() {
  PETL_CHECK(!merged_, "LoRA on '", target.name, "' is already merged");
  NoGradGuard no_grad;
  const Tensor delta = delta_weight();
  assign(target.weight, target.weight + (target.layout == nn::WeightLayout::InOut ? delta : transpose(delta, 0, 1)));
  merged_ = true;
}

void LoraLinear::unmerge() {
  PETL_CHECK(merged_, "LoRA on '", target.name, "' is not merged");
  NoGradGuard no_grad;
  const Tensor delta = delta_weight();
  assign(target.weight, target.weight - (target.layout == nn::WeightLayout::InOut ? delta : transpose(delta, 0, 1)));
  merged_ = false;
}

Lora::Lora(nn::Module& model, const nn::SiteMap& sites, std::vector<std::string> target_modules,
           const LoraOptions& options, Generator& init)
    : target_modules_(std::move(target_modules)), options_(options) {
  const std::vector<LinearTarget> targets = linear_targets(model, sites, target_modules_);
  model.set_trainable(false);
  for (const LinearTarget& t : targets) {
    auto layer = std::make_shared<LoraLinear>(t, options, init);
    register_module(t.name, layer);
    t.site->attach(layer);
    layers_.push_back(layer);
  }
}

void Lora::merge() {
  for (auto& l : layers_) l->merge();
}

void Lora::unmerge() {
  for (auto& l : layers_) l->unmerge();
}

void Lora::detach() {
  for (auto& l : layers_) {
    if (l->merged()) l->unmerge();
    l->target.site->detach(l.get());
  }
}

}  // namespace petl::peft

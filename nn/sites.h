// Sites: the places inside GPT-2 and BART where a parameter-efficient method attaches (the hook
// points of shared/PEFT.md §0.2). The model code calls a site at each place and never asks which
// method, if any, is there; a method is an object implementing one of the four hook interfaces,
// attached from outside. A site with nothing attached returns its input unchanged after one
// `empty()` test, so the base model pays nothing.
//
//   site            where                                   what a hook computes
//   SublayerSite    attention / cross-attention / FFN:      h' = hook(x, h)   x = sublayer input,
//                   also the merged heads before W_o                          h = its output
//   LinearSite      every Linear  y = x W + b               y' = hook(x, y)   LoRA: y + s (x A) B
//                                                                             (IA)^3: y * l
//   KeyValueSite    every attention                         rows [B|1, H, P, d_h] prepended to K, V
//   EmbeddingSite   token embeddings (before positions)     (E, mask) -> (E', mask')  prompt rows
//
// In the Unified View's terms (PEFT.md §13.2) a sequential adapter reads h, a parallel one reads x,
// and the composition (add, scaled add, multiply) is written inside the hook.
#pragma once
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace petl::nn {

// h' = apply(x, h): x is what the sublayer consumed, h what it produced (before the residual add).
class SublayerHook {
 public:
  virtual ~SublayerHook() = default;
  virtual Tensor apply(const Tensor& x, const Tensor& h) = 0;
  // The same, also given the residual stream r that h is added to (GPT-2: the block input for the
  // attention, a for the FFN; BART, post-LN: the sublayer input x itself; undefined where the model
  // passes none, e.g. the heads sites). Hooks that read r (AdapterHub's
  // `original_ln_before` on a pre-LN model: the adapter reads r + h) override this.
  virtual Tensor apply_with_residual(const Tensor& x, const Tensor& h, const Tensor& /*residual*/) {
    return apply(x, h);
  }
};

// y' = apply(x, y) with y = x W + b already computed.
class LinearHook {
 public:
  virtual ~LinearHook() = default;
  virtual Tensor apply(const Tensor& x, const Tensor& y) = 0;
};

// Extra key and value rows that every query of the attention sees: k, v of shape [B, H, P, d_h]
// (or [1, H, P, d_h], shared by every batch row). `batch` is the B of the current call. `mask`
// [B, P] (1 = visible, 0 = hidden) lets rows of one batch see different numbers of extra rows (a
// mixed-task batch, peft/mixed_batch.h); undefined = all visible. A hook with no rows for this call
// returns k undefined.
struct KeyValueRows {
  Tensor k, v;
  Tensor mask{};  // default-initialized: hooks without a mask write {k, v}
};
class KeyValueHook {
 public:
  virtual ~KeyValueHook() = default;
  virtual KeyValueRows rows(int64_t batch) = 0;
};

// The token embeddings [B, T, d] and their mask [B, T] (float, 1 = token, 0 = padding) before
// position embeddings are added; a hook may prepend rows (prompt tuning) and must extend the mask.
struct EmbeddedTokens {
  Tensor embeds, mask;
};
class EmbeddingHook {
 public:
  virtual ~EmbeddingHook() = default;
  virtual EmbeddedTokens apply(EmbeddedTokens tokens) = 0;
};

// A list of attached hooks, applied in the order they were attached.
template <class Hook>
class Site {
 public:
  void attach(std::shared_ptr<Hook> hook) { hooks_.push_back(std::move(hook)); }
  void detach(const Hook* hook) {
    hooks_.erase(std::remove_if(hooks_.begin(), hooks_.end(), [&](const auto& h) { return h.get() == hook; }),
                 hooks_.end());
  }
  void clear() { hooks_.clear(); }
  bool empty() const { return hooks_.empty(); }
  const std::vector<std::shared_ptr<Hook>>& hooks() const { return hooks_; }

 private:
  std::vector<std::shared_ptr<Hook>> hooks_;
};

class SublayerSite : public Site<SublayerHook> {
 public:
  Tensor operator()(const Tensor& x, Tensor h, const Tensor& residual = Tensor()) const {
    for (const auto& hook : hooks()) h = hook->apply_with_residual(x, h, residual);
    return h;
  }
};

class LinearSite : public Site<LinearHook> {
 public:
  Tensor operator()(const Tensor& x, Tensor y) const {
    for (const auto& hook : hooks()) y = hook->apply(x, y);
    return y;
  }
};

class KeyValueSite : public Site<KeyValueHook> {};

class EmbeddingSite : public Site<EmbeddingHook> {
 public:
  EmbeddedTokens operator()(EmbeddedTokens tokens) const {
    for (const auto& hook : hooks()) tokens = hook->apply(std::move(tokens));
    return tokens;
  }
};

// Every site of a model by name, so a method can attach by pattern ("h.*.attn", "*.fc1"). Names are
// the Hugging Face module paths: sublayer and key/value sites carry the attention's or FFN's path,
// linear sites the Linear's path (its parameters are "<name>.weight", "<name>.bias").
struct SiteMap {
  std::vector<std::pair<std::string, SublayerSite*>> sublayers;
  std::vector<std::pair<std::string, LinearSite*>> linears;
  std::vector<std::pair<std::string, KeyValueSite*>> key_values;
  std::vector<std::pair<std::string, EmbeddingSite*>> embeddings;
};

}  // namespace petl::nn

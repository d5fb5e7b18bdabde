// Fused scaled-dot-product attention and its backward (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

namespace {
void check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask) {
  check_floating(q, "attention");
  check_compatible(q, k, "attention");
  check_compatible(q, v, "attention");
  PETL_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention: q, k, v must be [B, H, T, D], got ",
             shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
  PETL_CHECK(k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3), "attention: k ",
             shape_str(k.shape()), " does not match q ", shape_str(q.shape()), " (expected [B, H, Tk, D])");
  PETL_CHECK(v.size(0) == q.size(0) && v.size(1) == q.size(1) && v.size(2) == k.size(2), "attention: v ",
             shape_str(v.shape()), " does not match k ", shape_str(k.shape()), " (expected [B, H, Tk, Dv])");
  if (key_mask.defined()) {
    PETL_CHECK((key_mask.shape() == Shape{q.size(0), k.size(2)}), "attention: key_mask ", shape_str(key_mask.shape()),
               ", expected [B, Tk] = [", q.size(0), ", ", k.size(2), "]");
    PETL_CHECK(key_mask.device() == q.device(), "attention: key_mask on ", key_mask.device().str(), ", q on ",
               q.device().str());
  }
}
// The mask in q's dtype, contiguous, as the backends read it (undefined stays undefined).
Tensor mask_as(const Tensor& key_mask, const Tensor& q) {
  return key_mask.defined() ? contiguous(to(key_mask, q.dtype())) : key_mask;
}
}  // namespace

AttentionOut attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const AttentionOptions& opts) {
  check_attention(q, k, v, key_mask);
  AttentionOut r;
  r.out = Tensor::empty({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype(), q.device());
  r.lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, q.dtype(), q.device());
  if (r.out.numel() || r.lse.numel())
    backend_for(q.device()).attention(contiguous(q), contiguous(k), contiguous(v), mask_as(key_mask, q), opts,
                                      r.out, r.lse);
  return r;
}

AttentionGrads attention_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& key_mask, const Tensor& out, const Tensor& lse,
                                  const AttentionOptions& opts, bool need_dq, bool need_dk, bool need_dv) {
  check_attention(q, k, v, key_mask);
  check_same_shape(g, out, "attention_backward");
  AttentionGrads r;
  if (need_dq) r.dq = zeros(q.shape(), q.dtype(), q.device());
  if (need_dk) r.dk = zeros(k.shape(), k.dtype(), k.device());
  if (need_dv) r.dv = zeros(v.shape(), v.dtype(), v.device());
  if ((need_dq || need_dk || need_dv) && g.numel())
    backend_for(q.device()).attention_backward(contiguous(g), contiguous(q), contiguous(k), contiguous(v),
                                               mask_as(key_mask, q), out, lse, opts, r.dq, r.dk, r.dv);
  return r;
}

}  // namespace petl::kernel

// Embedding lookup and its scatter-add backward (see kernels.h).
#include "tensor/kernels/checks.h"

namespace petl::kernel {

using namespace detail;

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_floating(weight, "embedding");
  check_defined(ids, "embedding", "ids");
  PETL_CHECK(weight.dim() == 2, "embedding: weight must be [num_embeddings, dim], got ", shape_str(weight.shape()));
  PETL_CHECK(ids.dtype() == DType::I64, "embedding: ids must be int64, got ", dtype_name(ids.dtype()), " ",
             shape_str(ids.shape()));
  PETL_CHECK(ids.device() == weight.device(), "embedding: ids on ", ids.device().str(), ", weight on ",
             weight.device().str());
  Shape shape = ids.shape();
  shape.push_back(weight.size(1));
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());
  if (out.numel()) backend_for(weight.device()).embedding(contiguous(weight), contiguous(ids), out);
  return out;
}

Tensor embedding_backward(const Tensor& g, const Tensor& ids, int64_t num_embeddings) {
  check_floating(g, "embedding_backward");
  Shape expected = ids.shape();
  expected.push_back(g.shape().back());
  PETL_CHECK(g.shape() == expected, "embedding_backward: gradient ", shape_str(g.shape()), " for ids ",
             shape_str(ids.shape()), ", expected ", shape_str(expected));
  Tensor dweight = zeros({num_embeddings, g.shape().back()}, g.dtype(), g.device());
  if (g.numel()) backend_for(g.device()).embedding_backward(contiguous(g), contiguous(ids), dweight);
  return dweight;
}

}  // namespace petl::kernel

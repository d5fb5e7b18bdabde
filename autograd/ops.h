// Differentiable operations: the public math API of petl. Each op family has one file stem in
// every layer: autograd/<family>.cpp (forward and backward closure side by side), the raw op in
// tensor/kernels/<family>.cpp, and the backends' tensor/cpu/<family>.cpp and tensor/cuda/<family>.cu.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/graph.h"
#include "tensor/backend.h"
#include "tensor/tensor.h"

namespace petl {

// ---- elementwise, NumPy broadcasting (autograd/elementwise.cpp)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
enum class GeluApprox { Tanh, Erf };  // GPT-2 and BART use Tanh ("gelu_new") and Erf ("gelu")
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::Tanh);
Tensor pow(const Tensor& x, double exponent);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);

// ---- reductions (autograd/reduce.cpp). An empty axes list reduces over every axis.
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);  // ties share the gradient
// x summed over the axes along which `shape` was broadcast to x's shape (undoes a broadcast).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- views (autograd/views.cpp) and copies (autograd/copy.cpp)
Tensor reshape(const Tensor& x, Shape shape);
Tensor permute(const Tensor& x, std::vector<int64_t> order);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor squeeze(const Tensor& x, int64_t axis);
Tensor contiguous(const Tensor& x);
Tensor to(const Tensor& x, Device device);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);

// ---- neural-network ops, one file each: autograd/matmul.cpp, softmax.cpp, layer_norm.cpp,
// bias_activation.cpp, embedding.cpp, cross_entropy.cpp, attention.cpp; masked_fill and dropout in elementwise.cpp
Tensor matmul(const Tensor& a, const Tensor& b);  // [..., M, K] @ [..., K, N]
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// Over the last axis; gamma and beta may be undefined (no affine part).
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
// The residual add and the layer norm after it in one pass: h = x + r (same shapes), y = LN(h).
// Returns both (a pre-LN block keeps h as its residual stream, a post-LN one only y).
struct ResidualNorm { Tensor h, y; };
ResidualNorm add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& gamma, const Tensor& beta,
                            double eps = 1e-5);
// y = gelu(x + bias), bias [n] over the last axis of x: a Linear's bias add and its activation in
// one pass (autograd/bias_activation.cpp).
Tensor bias_gelu(const Tensor& x, const Tensor& bias, GeluApprox approx = GeluApprox::Tanh);
Tensor embedding(const Tensor& weight, const Tensor& ids);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);  // where mask != 0
// Inverted dropout (scaled by 1/(1-p) in training); identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());
// Mean over rows whose target is not ignore_index; logits [N, C], targets int64 [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);
// Fused scaled-dot-product attention; see AttentionOptions (tensor/backend.h) for the masks.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask = Tensor(),
                 const AttentionOptions& opts = {});

}  // namespace petl

// Define-by-run reverse-mode differentiation.
//
// Every differentiable op computes its output with raw kernels, then calls record(): when grad
// mode is on and some input requires a gradient, the output gets a Node holding the op's backward
// closure and one Edge per input. backward(loss) walks the Nodes in reverse topological order,
// calls each closure with dL/d(output), and passes the input gradients along the edges; leaves
// (tensors made with set_requires_grad(true)) accumulate theirs in .grad(). A closure is told
// which inputs need a gradient (ctx.wants(i)) and computes only those: a frozen weight costs no
// weight-gradient GEMM. Closures and edges are released as soon as they have run.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace petl {

struct Node;

// The autograd slot of a Tensor (see Tensor::autograd()).
struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;                    // accumulated dL/dx of a leaf
  std::shared_ptr<Node> grad_fn;  // the op that produced a non-leaf
};

// Where an input's gradient goes: into another op's Node, or into a leaf's AutogradMeta.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<AutogradMeta> leaf;
  Shape shape;  // the input's shape and dtype; its gradient must have exactly these
  DType dtype = DType::F32;
  bool active() const { return node || leaf; }
};

// The storage version (tensor/storage.h) of an op's input or output when the op ran. Backward
// refuses to run the op's closure when it changed: the closure would read overwritten values.
struct VersionSnapshot {
  std::weak_ptr<Storage> storage;  // weak: a tensor nobody holds can no longer be written
  uint64_t version = 0;
  int input = -1;  // which input, or -1 for the op's output
  Shape shape;
};

// What a backward closure sees: dL/d(output), which inputs want a gradient, and whether it runs
// for the last time (backward without retain_graph): only then may it overwrite what it saved.
// take_pending(i) hands the closure the gradient input i has already received from its other
// consumers (those that ran earlier in this backward pass), removing it from the engine's
// accumulator: a closure that adds its own term to it in the same kernel pass (the fused residual
// + layer norm, autograd/layer_norm.cpp) then sets the sum, and the engine adds no second pass.
// Undefined when nothing is pending or input i is a leaf.
using PendingGradients = std::unordered_map<Node*, Tensor>;
class BackwardContext {
 public:
  BackwardContext(const Tensor& grad, const std::vector<Edge>& edges, std::vector<Tensor>& out, bool last_run,
                  PendingGradients* pending = nullptr)
      : grad(grad), edges_(edges), out_(out), last_run_(last_run), pending_(pending) {}
  const Tensor& grad;
  bool wants(size_t input) const { return edges_[input].active(); }
  void set(size_t input, Tensor gradient) { out_[input] = std::move(gradient); }
  bool last_run() const { return last_run_; }
  Tensor take_pending(size_t input);

 private:
  const std::vector<Edge>& edges_;
  std::vector<Tensor>& out_;
  bool last_run_;
  PendingGradients* pending_;
};

using BackwardFn = std::function<void(BackwardContext&)>;

struct Node {
  const char* name;
  std::vector<Edge> edges;
  BackwardFn backward;
  std::vector<VersionSnapshot> versions;
};

// Attach `backward` to `out` when grad mode is on and any input requires a gradient; returns out.
// The closure should capture inputs with .detach() (values, not graph), never `out` itself.
// The storage versions of the inputs and of `out` are noted; writing any of them in place
// (fill_, copy_, set, an optimizer step) before backward makes backward fail naming this op.
// That is stricter than PyTorch, which checks only the tensors a closure saves: here every input
// and the output count as saved, so a gradient can never be computed from overwritten values.
Tensor record(const char* name, Tensor out, std::initializer_list<const Tensor*> inputs, BackwardFn backward);
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);

// dL/dx for every leaf x that requires a gradient, accumulated into x.grad(). `root` must be a
// scalar unless `grad` (dL/droot) is given, which must match root's dtype, device and shape.
void backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false);

// Grad mode (per thread). NoGradGuard turns recording off for a scope: optimizer steps, decoding,
// finite differences.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace petl

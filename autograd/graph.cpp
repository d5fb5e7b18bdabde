#include "autograd/graph.h"

#include <unordered_map>
#include <unordered_set>

#include "tensor/kernels.h"

namespace petl {

namespace {
thread_local bool g_grad_enabled = true;

Edge edge_for(const Tensor& x) {
  Edge e;
  e.shape = x.shape();
  e.dtype = x.dtype();
  const auto& meta = x.autograd();
  if (!meta || !meta->requires_grad) return e;
  if (meta->grad_fn) e.node = meta->grad_fn;
  else e.leaf = meta;
  return e;
}

VersionSnapshot snapshot(const Tensor& x, int input) {
  return VersionSnapshot{x.storage(), x.version(), input, x.shape()};
}

Tensor attach(const char* name, Tensor out, std::vector<Edge> edges, std::vector<VersionSnapshot> versions,
              BackwardFn backward) {
  bool any = false;
  for (const Edge& e : edges) any = any || e.active();
  if (!any) return out;
  versions.push_back(snapshot(out, -1));
  auto node = std::make_shared<Node>(Node{name, std::move(edges), std::move(backward), std::move(versions)});
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = std::move(node);
  out.set_autograd(std::move(meta));
  return out;
}

// Before a closure runs: none of the op's inputs or its output was written in place since.
void check_versions(const Node& node) {
  for (const VersionSnapshot& v : node.versions) {
    const auto storage = v.storage.lock();
    if (!storage || storage->version() == v.version) continue;
    const std::string what = v.input < 0 ? std::string("the output") : "input " + std::to_string(v.input);
    throw Error(detail::concat("backward: ", what, " ", shape_str(v.shape), " of '", node.name,
                               "' was modified in place after '", node.name, "' used it (storage version ", v.version,
                               ", now ", storage->version(), "), so its gradient would be computed from the new "
                               "values; write into a clone, or before the op"));
  }
}

void accumulate_leaf(AutogradMeta& leaf, const Tensor& g) {
  // A gradient may alias another tensor (add passes dL/dy through unchanged) or be a broadcast
  // view; the leaf keeps a contiguous tensor of its own.
  // A second gradient (a tied weight: GPT-2's wte) is added in place when no other tensor shares
  // the accumulated one, so the sum costs no third buffer of the weight's size.
  if (!leaf.grad.defined()) leaf.grad = g.is_contiguous() ? g : kernel::contiguous(g);
  else if (leaf.grad.storage().use_count() == 1) kernel::add_(leaf.grad, g);
  else leaf.grad = kernel::binary(BinaryOp::Add, leaf.grad, g);
}

// Nodes reachable from root, ordered so that every node comes before the nodes it feeds into.
// Owning pointers: a node must outlive the release of its consumers' edges during backward.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->edges.size()) {
      std::shared_ptr<Node> child = node->edges[next++].node;
      if (child && seen.insert(child.get()).second) stack.push_back({std::move(child), 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};  // root first
}
}  // namespace

Tensor record(const char* name, Tensor out, std::initializer_list<const Tensor*> inputs, BackwardFn backward) {
  if (!g_grad_enabled) return out;
  std::vector<Edge> edges;
  std::vector<VersionSnapshot> versions;
  edges.reserve(inputs.size());
  for (const Tensor* x : inputs) {
    versions.push_back(snapshot(*x, int(edges.size())));
    edges.push_back(edge_for(*x));
  }
  return attach(name, std::move(out), std::move(edges), std::move(versions), std::move(backward));
}

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!g_grad_enabled) return out;
  std::vector<Edge> edges;
  std::vector<VersionSnapshot> versions;
  edges.reserve(inputs.size());
  for (const Tensor& x : inputs) {
    versions.push_back(snapshot(x, int(edges.size())));
    edges.push_back(edge_for(x));
  }
  return attach(name, std::move(out), std::move(edges), std::move(versions), std::move(backward));
}

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  PETL_CHECK(root.requires_grad(), "backward: the tensor of shape ", shape_str(root.shape()),
             " does not require a gradient (no input of its graph has requires_grad set)");
  Tensor seed = grad;
  if (!seed.defined()) {
    PETL_CHECK(root.numel() == 1, "backward: implicit gradient only for a scalar; got shape ",
               shape_str(root.shape()), ", pass dL/droot explicitly");
    seed = ones(root.shape(), root.dtype(), root.device());
  }
  PETL_CHECK(seed.dtype() == root.dtype(), "backward: gradient is ", dtype_name(seed.dtype()), " ",
             shape_str(seed.shape()), ", expected ", dtype_name(root.dtype()), " like the root");
  PETL_CHECK(seed.device() == root.device(), "backward: gradient is on ", seed.device().str(), ", expected ",
             root.device().str(), " like the root");
  PETL_CHECK(seed.shape() == root.shape(), "backward: gradient of shape ", shape_str(seed.shape()),
             " for a root of shape ", shape_str(root.shape()));
  const auto& meta = root.autograd();
  if (!meta->grad_fn) {
    accumulate_leaf(*meta, seed);
    return;
  }
  NoGradGuard no_grad;  // backward closures run raw kernels; nothing in here is recorded
  PendingGradients pending{{meta->grad_fn.get(), seed}};
  for (const std::shared_ptr<Node>& node : topological_order(meta->grad_fn)) {
    auto it = pending.find(node.get());
    if (it == pending.end()) continue;
    const Tensor g = std::move(it->second);
    pending.erase(it);
    PETL_CHECK(node->backward, "backward: the graph through '", node->name,
               "' was already freed by an earlier backward(); pass retain_graph=true to run it twice");
    check_versions(*node);
    std::vector<Tensor> input_grads(node->edges.size());
    BackwardContext ctx(g, node->edges, input_grads, !retain_graph, &pending);
    node->backward(ctx);
    for (size_t i = 0; i < node->edges.size(); ++i) {
      const Edge& e = node->edges[i];
      if (!e.active() || !input_grads[i].defined()) continue;
      PETL_CHECK(input_grads[i].shape() == e.shape, "backward of ", node->name, ": gradient for input ", i,
                 " has shape ", shape_str(input_grads[i].shape()), ", expected ", shape_str(e.shape));
      PETL_CHECK(input_grads[i].dtype() == e.dtype, "backward of ", node->name, ": gradient for input ", i, " is ",
                 dtype_name(input_grads[i].dtype()), ", expected ", dtype_name(e.dtype));
      if (e.leaf) {
        accumulate_leaf(*e.leaf, input_grads[i]);
      } else {
        Tensor& slot = pending[e.node.get()];
        slot = slot.defined() ? kernel::binary(BinaryOp::Add, slot, input_grads[i]) : input_grads[i];
      }
    }
    if (!retain_graph) {
      node->backward = nullptr;  // frees the saved tensors
      node->edges.clear();
      node->versions.clear();
    }
  }
}

Tensor BackwardContext::take_pending(size_t input) {
  const Edge& e = edges_[input];
  if (!pending_ || !e.node) return Tensor();
  auto it = pending_->find(e.node.get());
  if (it == pending_->end()) return Tensor();
  Tensor g = std::move(it->second);
  pending_->erase(it);
  return g;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

// ---- the Tensor methods that read the autograd slot

bool Tensor::requires_grad() const { return autograd_ && autograd_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool wanted) {
  PETL_CHECK(!(autograd_ && autograd_->grad_fn), "set_requires_grad: only leaf tensors can be marked; this one "
             "was computed by an op (detach() it first)");
  PETL_CHECK(!wanted || is_floating(dtype_), "set_requires_grad: a ", dtype_name(dtype_),
             " tensor cannot have a gradient");
  if (!autograd_) autograd_ = std::make_shared<AutogradMeta>();
  autograd_->requires_grad = wanted;
  return *this;
}

Tensor Tensor::grad() const { return autograd_ ? autograd_->grad : Tensor(); }

void Tensor::zero_grad() const {
  if (autograd_) autograd_->grad = Tensor();
}

}  // namespace petl

#include "peft/mixed_batch.h"

#include <algorithm>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace petl::peft {

// A task's own sites, one per model site and in the same order, under the model's names.
struct MixedBatch::Task {
  std::string name;
  std::vector<std::unique_ptr<nn::SublayerSite>> sublayers;
  std::vector<std::unique_ptr<nn::LinearSite>> linears;
  std::vector<std::unique_ptr<nn::KeyValueSite>> key_values;
  std::vector<std::unique_ptr<nn::EmbeddingSite>> embeddings;
  nn::SiteMap sites;
};

struct MixedBatch::LinearRouter : nn::LinearHook {
  LinearRouter(const MixedBatch* owner_, size_t site_) : owner(owner_), site(site_) {}
  Tensor apply(const Tensor& x, const Tensor& y) override {
    return owner->route(
        owner->model_sites_.linears[site].first, {x, y}, 1, [&](int64_t t) { return !owner->tasks_[size_t(t)]->linears[site]->empty(); },
        [&](int64_t t, const std::vector<Tensor>& in) { return (*owner->tasks_[size_t(t)]->linears[site])(in[0], in[1]); });
  }
  const MixedBatch* owner;
  size_t site;
};

struct MixedBatch::SublayerRouter : nn::SublayerHook {
  SublayerRouter(const MixedBatch* owner_, size_t site_) : owner(owner_), site(site_) {}
  Tensor apply(const Tensor& x, const Tensor& h) override { return apply_with_residual(x, h, Tensor()); }
  Tensor apply_with_residual(const Tensor& x, const Tensor& h, const Tensor& residual) override {
    return owner->route(
        owner->model_sites_.sublayers[site].first, {x, h, residual}, 1, [&](int64_t t) { return !owner->tasks_[size_t(t)]->sublayers[site]->empty(); },
        [&](int64_t t, const std::vector<Tensor>& in) {
          return (*owner->tasks_[size_t(t)]->sublayers[site])(in[0], in[1], in[2]);
        });
  }
  const MixedBatch* owner;
  size_t site;
};

struct MixedBatch::KeyValueRouter : nn::KeyValueHook {
  KeyValueRouter(const MixedBatch* owner_, size_t site_) : owner(owner_), site(site_) {}
  nn::KeyValueRows rows(int64_t batch) override { return owner->key_value_rows(site, batch); }
  const MixedBatch* owner;
  size_t site;
};

MixedBatch::MixedBatch(const nn::SiteMap& model_sites) : model_sites_(model_sites) {
  for (size_t i = 0; i < model_sites_.linears.size(); ++i) {
    linear_routers_.push_back(std::make_shared<LinearRouter>(this, i));
    model_sites_.linears[i].second->attach(linear_routers_.back());
  }
  for (size_t i = 0; i < model_sites_.sublayers.size(); ++i) {
    sublayer_routers_.push_back(std::make_shared<SublayerRouter>(this, i));
    model_sites_.sublayers[i].second->attach(sublayer_routers_.back());
  }
  for (size_t i = 0; i < model_sites_.key_values.size(); ++i) {
    key_value_routers_.push_back(std::make_shared<KeyValueRouter>(this, i));
    model_sites_.key_values[i].second->attach(key_value_routers_.back());
  }
}

MixedBatch::~MixedBatch() { detach(); }

void MixedBatch::detach() {
  for (size_t i = 0; i < linear_routers_.size(); ++i) model_sites_.linears[i].second->detach(linear_routers_[i].get());
  for (size_t i = 0; i < sublayer_routers_.size(); ++i)
    model_sites_.sublayers[i].second->detach(sublayer_routers_[i].get());
  for (size_t i = 0; i < key_value_routers_.size(); ++i)
    model_sites_.key_values[i].second->detach(key_value_routers_[i].get());
  linear_routers_.clear();
  sublayer_routers_.clear();
  key_value_routers_.clear();
}

int64_t MixedBatch::add_task(const std::string& name) {
  for (const auto& task : tasks_)
    PETL_CHECK(task->name != name, "MixedBatch: a task named '", name, "' already exists");
  auto task = std::make_unique<Task>();
  task->name = name;
  for (const auto& [site_name, site] : model_sites_.sublayers) {
    task->sublayers.push_back(std::make_unique<nn::SublayerSite>());
    task->sites.sublayers.emplace_back(site_name, task->sublayers.back().get());
  }
  for (const auto& [site_name, site] : model_sites_.linears) {
    task->linears.push_back(std::make_unique<nn::LinearSite>());
    task->sites.linears.emplace_back(site_name, task->linears.back().get());
  }
  for (const auto& [site_name, site] : model_sites_.key_values) {
    task->key_values.push_back(std::make_unique<nn::KeyValueSite>());
    task->sites.key_values.emplace_back(site_name, task->key_values.back().get());
  }
  for (const auto& [site_name, site] : model_sites_.embeddings) {
    task->embeddings.push_back(std::make_unique<nn::EmbeddingSite>());
    task->sites.embeddings.emplace_back(site_name, task->embeddings.back().get());
  }
  tasks_.push_back(std::move(task));
  return int64_t(tasks_.size()) - 1;
}

nn::SiteMap& MixedBatch::task_sites(int64_t task) {
  PETL_CHECK(task >= 0 && task < task_count(), "MixedBatch: no task ", task, " (", task_count(), " tasks)");
  return tasks_[size_t(task)]->sites;
}

const std::string& MixedBatch::task_name(int64_t task) const {
  PETL_CHECK(task >= 0 && task < task_count(), "MixedBatch: no task ", task, " (", task_count(), " tasks)");
  return tasks_[size_t(task)]->name;
}

void MixedBatch::set_row_tasks(std::vector<int64_t> row_tasks) {
  for (size_t b = 0; b < row_tasks.size(); ++b) {
    const int64_t t = row_tasks[b];
    PETL_CHECK(t >= -1 && t < task_count(), "MixedBatch: row ", b, " has task ", t, ", expected -1 (base model) or 0..",
               task_count() - 1);
    if (t < 0) continue;
    for (size_t e = 0; e < tasks_[size_t(t)]->embeddings.size(); ++e)
      PETL_CHECK(tasks_[size_t(t)]->embeddings[e]->empty(), "MixedBatch: task '", tasks_[size_t(t)]->name,
                 "' has a hook at the embedding site '", model_sites_.embeddings[e].first,
                 "'; prompt rows change each row's length, which a mixed batch does not route");
  }
  row_tasks_ = std::move(row_tasks);
}

Tensor MixedBatch::rows_of(int64_t task) const {
  std::vector<int64_t> rows;
  for (size_t b = 0; b < row_tasks_.size(); ++b)
    if (row_tasks_[b] == task) rows.push_back(int64_t(b));
  return from_vector(rows, {int64_t(rows.size())});
}

void MixedBatch::select_rows(const Tensor& index) {
  std::vector<int64_t> selected;
  for (double i : index.to_vector()) {
    PETL_CHECK(i >= 0 && i < double(row_tasks_.size()), "MixedBatch::select_rows: row ", i, " outside [0, ",
               row_tasks_.size(), ")");
    selected.push_back(row_tasks_[size_t(i)]);
  }
  row_tasks_ = std::move(selected);
}

void MixedBatch::check_base_frozen(const nn::Module& base) {
  for (const auto& [name, p] : base.named_parameters())
    PETL_CHECK(!p.requires_grad(), "MixedBatch: base parameter '", name,
               "' trains; every task of a mixed batch shares it, so training it would change the other tasks' "
               "outputs (freeze it, e.g. BottleneckOptions::train_layer_norms = false)");
}

Tensor MixedBatch::gather_rows(const Tensor& x, const Tensor& index) {
  Shape shape = x.shape();
  shape[0] = index.numel();
  return reshape(embedding(reshape(x, {x.size(0), -1}), to(index, x.device())), shape);  // out[i] = x[index[i]]
}

void MixedBatch::check_batch(int64_t batch, const std::string& site_name) const {
  PETL_CHECK(!row_tasks_.empty(), "MixedBatch: a forward reached site '", site_name, "' before set_row_tasks");
  PETL_CHECK(batch == int64_t(row_tasks_.size()), "MixedBatch: at site '", site_name, "' the batch has ", batch,
             " rows, set_row_tasks gave ", row_tasks_.size(), " tasks");
}

namespace {
Tensor index_tensor(const std::vector<int64_t>& rows, Device device) {
  return from_vector(rows, {int64_t(rows.size())}, device);
}
// inverse[order[i]] = i: the gather that puts rows listed in `order` back in batch order.
Tensor inverse_of(const std::vector<int64_t>& order, Device device) {
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[size_t(order[i])] = int64_t(i);
  return index_tensor(inverse, device);
}
}  // namespace

Tensor MixedBatch::route(const std::string& site_name, const std::vector<Tensor>& inputs, size_t keep,
                         const std::function<bool(int64_t)>& has_hooks,
                         const std::function<Tensor(int64_t, const std::vector<Tensor>&)>& run) const {
  const Tensor& passthrough = inputs[keep];
  if (tasks_.empty()) return passthrough;
  const int64_t B = passthrough.size(0);
  check_batch(B, site_name);
  std::vector<std::vector<int64_t>> rows(tasks_.size());
  std::vector<int64_t> rest;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = row_tasks_[size_t(b)];
    (t >= 0 && has_hooks(t) ? rows[size_t(t)] : rest).push_back(b);
  }
  if (int64_t(rest.size()) == B) return passthrough;  // no row's task acts here
  for (size_t t = 0; t < rows.size(); ++t)  // one task holds the whole batch: its own forward, as is
    if (int64_t(rows[t].size()) == B) return run(int64_t(t), inputs);
  const Device device = passthrough.device();
  std::vector<Tensor> parts;
  std::vector<int64_t> order;
  for (size_t t = 0; t < rows.size(); ++t) {
    if (rows[t].empty()) continue;
    const Tensor index = index_tensor(rows[t], device);
    std::vector<Tensor> gathered;
    for (const Tensor& in : inputs) gathered.push_back(in.defined() ? gather_rows(in, index) : Tensor());
    parts.push_back(run(int64_t(t), gathered));
    order.insert(order.end(), rows[t].begin(), rows[t].end());
  }
  if (!rest.empty()) {
    parts.push_back(gather_rows(passthrough, index_tensor(rest, device)));
    order.insert(order.end(), rest.begin(), rest.end());
  }
  return gather_rows(concat(parts, 0), inverse_of(order, device));
}

nn::KeyValueRows MixedBatch::key_value_rows(size_t site, int64_t batch) const {
  if (tasks_.empty()) return {};
  check_batch(batch, model_sites_.key_values[site].first);
  struct Part {
    std::vector<int64_t> rows;
    Tensor k, v, mask;
  };
  std::vector<Part> parts;
  std::vector<int64_t> rest;
  bool hooks_masked = false;
  std::vector<std::vector<int64_t>> rows(tasks_.size());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t t = row_tasks_[size_t(b)];
    (t >= 0 && !tasks_[size_t(t)]->key_values[site]->empty() ? rows[size_t(t)] : rest).push_back(b);
  }
  for (size_t t = 0; t < rows.size(); ++t) {
    if (rows[t].empty()) continue;
    const int64_t n = int64_t(rows[t].size());
    Part part{rows[t], Tensor(), Tensor(), Tensor()};
    // the task's hooks in attachment order, each prepending its rows, as the attention does
    for (const auto& hook : tasks_[size_t(t)]->key_values[site]->hooks()) {
      nn::KeyValueRows r = hook->rows(n);
      if (!r.k.defined()) continue;
      const Shape shape{n, r.k.size(1), r.k.size(2), r.k.size(3)};
      const Tensor k = expand(r.k, shape), v = expand(r.v, shape);
      hooks_masked = hooks_masked || r.mask.defined();
      const Tensor mask = r.mask.defined() ? kernel::to(r.mask, DType::F32)
                                           : ones({n, shape[2]}, DType::F32, r.k.device());
      part.k = part.k.defined() ? concat({k, part.k}, 2) : k;
      part.v = part.v.defined() ? concat({v, part.v}, 2) : v;
      part.mask = part.mask.defined() ? concat({mask, part.mask}, 1) : mask;
    }
    if (part.k.defined()) parts.push_back(std::move(part));
    else rest.insert(rest.end(), rows[t].begin(), rows[t].end());
  }
  if (parts.empty()) return {};  // no extra rows in this batch: the attention runs as without a router
  if (int64_t(parts[0].rows.size()) == batch)  // one task holds the whole batch: its rows as they are
    return {parts[0].k, parts[0].v, hooks_masked ? parts[0].mask : Tensor()};
  // Rows see different numbers of extra rows: pad each task's on the left to P_max with zero rows
  // that the key mask hides (scores at hidden keys are -inf before the softmax, so they add nothing).
  int64_t P_max = 0;
  for (const Part& p : parts) P_max = std::max(P_max, p.k.size(2));
  const int64_t H = parts[0].k.size(1), d_h = parts[0].k.size(3);
  const Device device = parts[0].k.device();
  std::vector<Tensor> ks, vs, masks;
  std::vector<int64_t> order;
  for (const Part& p : parts) {
    const int64_t n = int64_t(p.rows.size()), pad = P_max - p.k.size(2);
    PETL_CHECK(p.k.size(1) == H && p.k.size(3) == d_h, "MixedBatch: tasks give key rows of ", shape_str(p.k.shape()),
               " and ", shape_str(parts[0].k.shape()), " at the key/value site '", model_sites_.key_values[site].first,
               "'");
    const Tensor zero_rows = zeros({n, H, pad, d_h}, DType::F32, device);
    ks.push_back(pad > 0 ? concat({zero_rows, p.k}, 2) : p.k);
    vs.push_back(pad > 0 ? concat({zero_rows, p.v}, 2) : p.v);
    masks.push_back(pad > 0 ? concat({zeros({n, pad}, DType::F32, device), p.mask}, 1) : p.mask);
    order.insert(order.end(), p.rows.begin(), p.rows.end());
  }
  if (!rest.empty()) {  // rows with no extra rows here see P_max hidden ones
    const int64_t n = int64_t(rest.size());
    ks.push_back(zeros({n, H, P_max, d_h}, DType::F32, device));
    vs.push_back(zeros({n, H, P_max, d_h}, DType::F32, device));
    masks.push_back(zeros({n, P_max}, DType::F32, device));
    order.insert(order.end(), rest.begin(), rest.end());
  }
  const Tensor inverse = inverse_of(order, device);
  return {gather_rows(concat(ks, 0), inverse), gather_rows(concat(vs, 0), inverse),
          gather_rows(concat(masks, 0), inverse)};
}

MixedStepModel::MixedStepModel(nn::StepModel& model, MixedBatch& mixed, std::vector<int64_t> prompt_tasks)
    : model_(model), mixed_(mixed), prompt_tasks_(std::move(prompt_tasks)) {}

Tensor MixedStepModel::start(const Tensor& input_ids, const Tensor& attention_mask) {
  PETL_CHECK(input_ids.dim() >= 1 && input_ids.size(0) == int64_t(prompt_tasks_.size()), "MixedStepModel: ",
             prompt_tasks_.size(), " prompt tasks for input_ids ", shape_str(input_ids.shape()));
  mixed_.set_row_tasks(prompt_tasks_);
  return model_.start(input_ids, attention_mask);
}

void MixedStepModel::select_rows(const Tensor& index) {
  mixed_.select_rows(index);
  model_.select_rows(index);
}

}  // namespace petl::peft

// Mixed-task batches (Li & Liang 2021 §4: prefixes of different users share one batch; the same holds
// for LoRA and adapters) and Houlsby et al. 2019's online setting (a new task adds a module and
// leaves every earlier task exactly as it was). docs/peft/mixed_batches.md.
//
// Every row b of a batch carries a task index t(b) (-1: the base model alone). One forward over the
// batch computes, row by row, what running row b alone through the base model with task t(b)'s
// method attached would compute:
//
//   at a linear site      y'_b = hook_{t(b)}(x_b, y_b)         rows of one task are gathered, run
//   at a sublayer site    h'_b = hook_{t(b)}(x_b, h_b, r_b)     through that task's hooks together,
//                                                               and scattered back to their places
//   at a key/value site   K_b  = [pad_b ; P_k^{t(b)} ; K_b]     pad_b: P_max - P_{t(b)} zero rows that
//                                                               the key mask hides
//
// Design: MixedBatch attaches one routing hook at every sublayer, linear and key/value site of the
// model, and gives each task a SiteMap of its own, mirroring the model's names. A task's method is
// built and attached to that SiteMap exactly as it would be to the model (Lora, PrefixTuning,
// BottleneckAdapters ... unchanged); the routing hook at site k runs task t's rows through task t's
// site k. The model code never learns that routing happens.
//
//   peft::MixedBatch mixed(model.sites());
//   int64_t a = mixed.add_task("summaries");
//   peft::Lora lora(model, mixed.task_sites(a), {"c_attn"}, options, gen);
//   mixed.set_row_tasks({a, -1, a});
//   Tensor logits = model.forward(ids, mask);
//
// Limits: embedding hooks (prompt tuning) change the sequence length per row and are refused; a
// method must not merge into the shared base weights (LoRA/IA3 merge) nor train base parameters
// (Houlsby's LayerNorms), since those are shared by every task (check_base_frozen).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/sites.h"
#include "nn/step_model.h"

namespace petl::peft {

class MixedBatch {
 public:
  // Attaches a routing hook to every sublayer, linear and key/value site of `model_sites` (the model
  // must outlive the router). With no task added, or every row on -1, the model computes what it
  // computed before, bit for bit.
  explicit MixedBatch(const nn::SiteMap& model_sites);
  ~MixedBatch();
  MixedBatch(const MixedBatch&) = delete;
  MixedBatch& operator=(const MixedBatch&) = delete;

  // A new task: returns its index (0, 1, ...). Attach the task's method to task_sites(index) as one
  // attaches to a model's sites(); earlier tasks are not touched (Houlsby's online setting).
  int64_t add_task(const std::string& name);
  nn::SiteMap& task_sites(int64_t task);
  const std::string& task_name(int64_t task) const;
  int64_t task_count() const { return int64_t(tasks_.size()); }

  // The task of each row of the following forwards, -1 for the base model alone.
  void set_row_tasks(std::vector<int64_t> row_tasks);
  const std::vector<int64_t>& row_tasks() const { return row_tasks_; }
  // The rows of `task` in the current batch, int64 [n] (to take a task's loss out of a batch).
  Tensor rows_of(int64_t task) const;
  // Row i becomes row index[i] (int64 [B']): beam search's reordering and expansion.
  void select_rows(const Tensor& index);

  // Throws naming the first parameter of `base` that would be trained: a base parameter is shared
  // by every task, so training it would change the other tasks' outputs.
  static void check_base_frozen(const nn::Module& base);

  // Removes the routing hooks from the model (the destructor does it too).
  void detach();

  // Rows of x (axis 0) in the order of `index` (int64 [n]); differentiable (a gather).
  static Tensor gather_rows(const Tensor& x, const Tensor& index);

 private:
  struct Task;
  struct LinearRouter;
  struct SublayerRouter;
  struct KeyValueRouter;

  // Runs `run(task, inputs of its rows)` for every task of the batch that `has_hooks`, keeps
  // inputs[keep] for the other rows, and puts every row back in its place.
  Tensor route(const std::string& site_name, const std::vector<Tensor>& inputs, size_t keep,
               const std::function<bool(int64_t)>& has_hooks,
               const std::function<Tensor(int64_t, const std::vector<Tensor>&)>& run) const;
  nn::KeyValueRows key_value_rows(size_t site, int64_t batch) const;
  void check_batch(int64_t batch, const std::string& site_name) const;

  nn::SiteMap model_sites_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<int64_t> row_tasks_;
  std::vector<std::shared_ptr<nn::LinearHook>> linear_routers_;
  std::vector<std::shared_ptr<nn::SublayerHook>> sublayer_routers_;
  std::vector<std::shared_ptr<nn::KeyValueHook>> key_value_routers_;
};

// A StepModel whose rows keep their task through decoding: start() sets the prompts' tasks, and
// select_rows() moves them with the cache (beam expansion and reordering), so nn::generate runs a
// mixed batch unchanged.
class MixedStepModel : public nn::StepModel {
 public:
  MixedStepModel(nn::StepModel& model, MixedBatch& mixed, std::vector<int64_t> prompt_tasks);
  Tensor start(const Tensor& input_ids, const Tensor& attention_mask) override;
  Tensor next(const Tensor& tokens) override { return model_.next(tokens); }
  void select_rows(const Tensor& index) override;
  int64_t vocab_size() const override { return model_.vocab_size(); }
  int64_t eos_token_id() const override { return model_.eos_token_id(); }
  int64_t pad_token_id() const override { return model_.pad_token_id(); }
  int64_t decoder_start_token_id() const override { return model_.decoder_start_token_id(); }

 private:
  nn::StepModel& model_;
  MixedBatch& mixed_;
  std::vector<int64_t> prompt_tasks_;
};

}  // namespace petl::peft

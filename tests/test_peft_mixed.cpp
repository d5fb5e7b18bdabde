// Mixed-task batches (peft/mixed_batch.h) on the tiny GPT-2 and tiny BART: rows using LoRA, two
// prefixes of different lengths, a bottleneck adapter, MAM (GPT-2) and none share one batch. Each row's logits
// and generated ids (greedy and beam, through the StepModel cache) equal those of the row run alone
// on a second copy of the model with its task's method attached directly; each task's gradients
// equal those from its rows alone. Houlsby's online setting: adding and training a new task leaves
// every earlier task's logits bit-identical.
#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>

#include "autograd/graph.h"
#include "nn/adamw.h"
#include "nn/bart_checkpoint.h"
#include "nn/generate.h"
#include "nn/gpt2_checkpoint.h"
#include "peft/bottleneck_adapter.h"
#include "peft/compose.h"
#include "peft/lora.h"
#include "peft/mam.h"
#include "peft/mixed_batch.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
#include "support/tensor_helpers.h"
#include "tensor/kernels.h"

using namespace petl;
using namespace petl::nn;
using namespace petl::peft;

namespace {

const std::string kGpt2 = "tests/fixtures/gpt2/model";
const std::string kBart = "tests/fixtures/bart/model";

// Float32 logits of one row computed in a batch of other rows and alone differ only by the order
// of float additions inside the GEMMs (blocking depends on the row count): measured at most
// 2.2e-7 (4 ulps) on logits below 1 (see the MESSAGE lines); the bound leaves room for other CPUs'
// vector widths.
constexpr double kLogitsTolerance = 1e-5;
// Gradients: relative to the largest gradient entry of the parameter, same reason.
constexpr double kGradientTolerance = 1e-5;

// Values drawn N(0, scale^2) for every parameter of `m`: LoRA's B and an adapter's up-projection
// start at or near zero, which would make a task indistinguishable from the base model.
void randomize(const Module& m, uint64_t seed, double scale) {
  Generator gen(seed);
  for (auto& [name, p] : m.named_parameters()) kernel::copy_(p, randn(p.shape(), DType::F32, Device::cpu(), gen) * scale);
}

// The model's sites and a router over them; the methods of the tasks, index = task.
struct Mixed {
  SiteMap sites;
  std::unique_ptr<MixedBatch> mixed;
  std::vector<std::shared_ptr<Module>> methods;
};

// Task adders; each returns the task index.
int64_t add_lora(Mixed& m, Module& model, std::vector<std::string> targets, uint64_t seed, double scale = 0.1) {
  const int64_t t = m.mixed->add_task("lora");
  LoraOptions o;
  o.r = 4;
  o.alpha = 8.0;
  Generator gen(seed);
  auto lora = std::make_shared<Lora>(model, m.mixed->task_sites(t), std::move(targets), o, gen);
  randomize(*lora, seed, scale);
  m.methods.push_back(lora);
  return t;
}

int64_t add_prefix(Mixed& m, Module& model, int64_t attention_sites, int64_t heads, int64_t d, int64_t length,
                   bool projection, uint64_t seed, double scale = 0.0) {
  const int64_t t = m.mixed->add_task("prefix" + std::to_string(length));
  Generator gen(seed);
  auto prefix = std::make_shared<PrefixTuning>(attention_sites, heads, d, PrefixTuningOptions{length, projection, 16}, gen);
  prefix->attach(m.mixed->task_sites(t), model);
  if (scale > 0.0) randomize(*prefix, seed, scale);  // 0: the method's own init
  m.methods.push_back(prefix);
  return t;
}

int64_t add_adapter(Mixed& m, Module& model, int64_t d, std::vector<std::string> site_patterns, uint64_t seed,
                    double scale = 0.1) {
  const int64_t t = m.mixed->add_task("adapter");
  BottleneckOptions o = houlsby(6);
  o.sites = std::move(site_patterns);
  o.train_layer_norms = false;  // a base LayerNorm is shared by every task of the batch
  auto adapters = std::make_shared<BottleneckAdapters>(d, o, seed);
  adapters->attach(m.mixed->task_sites(t), model);
  randomize(*adapters, seed, scale);
  m.methods.push_back(adapters);
  return t;
}

// MAM (He et al. 2022): a prefix and a parallel adapter in one task, hooks at two kinds of site.
int64_t add_mam(Mixed& m, Module& model, int64_t layers, int64_t heads, int64_t d, uint64_t seed) {
  const int64_t t = m.mixed->add_task("mam");
  MamOptions o;
  o.prefix = PrefixTuningOptions{2, true, 16};
  o.adapter = scaled_parallel_adapter(8, 4.0);
  auto mam = std::make_shared<Mam>(layers, heads, d, o, seed);
  mam->attach(m.mixed->task_sites(t), model);
  randomize(*mam, seed, 0.1);  // the adapter's up-projection starts at zero
  m.methods.push_back(mam);
  return t;
}

// The row alone: task `t`'s hooks attached straight to a plain copy of the model, as the method
// itself attaches them when there is no router.
void attach_alone(const SiteMap& task, const SiteMap& plain) {
  for (size_t i = 0; i < task.linears.size(); ++i)
    for (const auto& hook : task.linears[i].second->hooks()) plain.linears[i].second->attach(hook);
  for (size_t i = 0; i < task.sublayers.size(); ++i)
    for (const auto& hook : task.sublayers[i].second->hooks()) plain.sublayers[i].second->attach(hook);
  for (size_t i = 0; i < task.key_values.size(); ++i)
    for (const auto& hook : task.key_values[i].second->hooks()) plain.key_values[i].second->attach(hook);
}

void detach_all(const SiteMap& plain) {
  for (const auto& [name, site] : plain.linears) site->clear();
  for (const auto& [name, site] : plain.sublayers) site->clear();
  for (const auto& [name, site] : plain.key_values) site->clear();
}

// Token rows of different lengths.
std::vector<std::vector<int64_t>> random_rows(const std::vector<int64_t>& lengths, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<std::vector<int64_t>> rows;
  for (int64_t n : lengths) {
    std::vector<int64_t> row;
    for (double v : uniform({n}, 0.0, double(vocab), DType::F64, Device::cpu(), gen).to_vector())
      row.push_back(std::min(int64_t(v), vocab - 1));
    rows.push_back(row);
  }
  return rows;
}

// ids [n, T] and mask [n, T] of the selected rows, padded with `pad` on the right or the left.
struct Padded {
  Tensor ids, mask;
  int64_t width = 0;
};
Padded pad_rows(const std::vector<std::vector<int64_t>>& rows, const std::vector<int64_t>& which, int64_t pad,
                bool left, int64_t width = 0) {
  for (int64_t r : which) width = std::max(width, int64_t(rows[size_t(r)].size()));
  std::vector<int64_t> ids;
  std::vector<double> mask;
  for (int64_t r : which) {
    const std::vector<int64_t>& row = rows[size_t(r)];
    const size_t fill = size_t(width) - row.size();
    if (left) ids.insert(ids.end(), fill, pad), mask.insert(mask.end(), fill, 0.0);
    ids.insert(ids.end(), row.begin(), row.end());
    mask.insert(mask.end(), row.size(), 1.0);
    if (!left) ids.insert(ids.end(), fill, pad), mask.insert(mask.end(), fill, 0.0);
  }
  const int64_t n = int64_t(which.size());
  return {from_vector(ids, {n, width}), from_vector(mask, {n, width}, DType::I64), width};
}

std::vector<int64_t> all_rows(size_t n) {
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = int64_t(i);
  return r;
}

std::vector<int64_t> rows_of_task(const std::vector<int64_t>& tasks, int64_t t) {
  std::vector<int64_t> r;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (tasks[i] == t) r.push_back(int64_t(i));
  return r;
}

// max |a - b| over positions [0, n) of row `row` of a [B, T, V] tensor against row 0 of [1, T', V].
double row_logits_diff(const Tensor& batch, int64_t row, int64_t offset, const Tensor& alone, int64_t n) {
  const int64_t T = batch.size(1), V = batch.size(2);
  const std::vector<double> a = batch.to_vector(), b = alone.to_vector();
  double diff = 0.0;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t v = 0; v < V; ++v)
      diff = std::max(diff, std::fabs(a[size_t((row * T + offset + t) * V + v)] - b[size_t(t * V + v)]));
  return diff;
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Labels for a causal-LM / seq2seq loss: the ids, -100 at padding.
Tensor labels_of(const Padded& p) {
  std::vector<int64_t> labels;
  const std::vector<double> ids = p.ids.to_vector(), mask = p.mask.to_vector();
  for (size_t i = 0; i < ids.size(); ++i) labels.push_back(mask[i] != 0.0 ? int64_t(ids[i]) : -100);
  return from_vector(labels, p.ids.shape());
}

// Gradients of every parameter of every task, then cleared.
std::vector<std::vector<std::vector<double>>> take_gradients(const Mixed& m) {
  std::vector<std::vector<std::vector<double>>> out;
  for (const auto& method : m.methods) {
    std::vector<std::vector<double>> grads;
    for (auto& [name, p] : method->named_parameters()) {
      grads.push_back(p.grad().defined() ? p.grad().to_vector() : std::vector<double>());
      p.zero_grad();
    }
    out.push_back(grads);
  }
  return out;
}

void check_gradients(const std::vector<std::vector<double>>& mixed, const std::vector<std::vector<double>>& alone,
                     const std::string& task) {
  REQUIRE(mixed.size() == alone.size());
  double worst = 0.0;
  for (size_t i = 0; i < mixed.size(); ++i) {
    INFO(task << " parameter " << i);
    REQUIRE(!alone[i].empty());
    REQUIRE(mixed[i].size() == alone[i].size());
    const double scale = max_abs(alone[i]);
    REQUIRE(scale > 0.0);
    worst = std::max(worst, testing::max_abs_diff(mixed[i], alone[i]) / scale);
  }
  MESSAGE(task << ": max relative gradient difference, mixed batch vs its rows alone: " << worst);
  CHECK(worst < kGradientTolerance);
}

// Generated ids of row `row` (after its `prompt_width` prompt columns) against the row alone; a row
// that ended early is filled with `fill` in the batch.
void check_generated(const Tensor& batch, int64_t row, int64_t prompt_width, const Tensor& alone, int64_t alone_prompt,
                     int64_t fill) {
  const int64_t L = batch.size(1), L1 = alone.size(1);
  const std::vector<double> a = batch.to_vector(), b = alone.to_vector();
  std::vector<int64_t> mixed_tail, alone_tail;
  for (int64_t i = prompt_width; i < L; ++i) mixed_tail.push_back(int64_t(a[size_t(row * L + i)]));
  for (int64_t i = alone_prompt; i < L1; ++i) alone_tail.push_back(int64_t(b[size_t(i)]));
  INFO("row " << row);
  REQUIRE(alone_tail.size() <= mixed_tail.size());
  REQUIRE(!alone_tail.empty());
  for (size_t i = 0; i < mixed_tail.size(); ++i) {
    INFO("generated token " << i);
    CHECK(mixed_tail[i] == (i < alone_tail.size() ? alone_tail[i] : fill));
  }
}

// Whether row `row` of a batch output generated other ids than `other` (a single-row output).
bool generated_differs(const Tensor& batch, int64_t row, int64_t prompt_width, const Tensor& other, int64_t other_prompt) {
  const int64_t L = batch.size(1), L1 = other.size(1);
  const std::vector<double> a = batch.to_vector(), b = other.to_vector();
  for (int64_t i = 0; i < std::min(L - prompt_width, L1 - other_prompt); ++i)
    if (a[size_t(row * L + prompt_width + i)] != b[size_t(other_prompt + i)]) return true;
  return false;
}

// ---------------------------------------------------------------- GPT-2
struct Gpt2Case {
  std::unique_ptr<Gpt2LMHead> model, plain;  // plain: the copy that runs rows alone
  SiteMap plain_sites;
  Mixed m;
};

Gpt2Case gpt2_case(bool all_tasks = true) {
  Gpt2Case c;
  c.model = load_gpt2(kGpt2);
  c.model->train(false);
  c.plain = load_gpt2(kGpt2);
  c.plain->train(false);
  c.plain->set_trainable(false);
  c.plain_sites = c.plain->sites();
  c.m.sites = c.model->sites();
  c.m.mixed = std::make_unique<MixedBatch>(c.m.sites);
  const Gpt2Config& cfg = c.model->config();
  add_lora(c.m, *c.model, {"c_attn", "mlp.c_fc"}, 11);                                       // task 0
  add_prefix(c.m, *c.model, cfg.n_layer, cfg.n_head, cfg.n_embd, 3, /*projection=*/true, 12);  // task 1
  if (all_tasks) {
    add_adapter(c.m, *c.model, cfg.n_embd, {"attn", "mlp"}, 13);                              // task 2
    add_prefix(c.m, *c.model, cfg.n_layer, cfg.n_head, cfg.n_embd, 5, /*projection=*/false, 14);  // task 3
    add_mam(c.m, *c.model, cfg.n_layer, cfg.n_head, cfg.n_embd, 15);                              // task 4
  }
  MixedBatch::check_base_frozen(*c.model);
  return c;
}

const std::vector<int64_t> kGpt2Tasks = {0, 1, -1, 2, 3, 1, 4};
const std::vector<int64_t> kGpt2Lengths = {7, 5, 7, 4, 6, 3, 5};

TEST_CASE("mixed GPT-2 batch: each row's logits equal the row alone with its task (LoRA, 2 prefixes, adapter, MAM, none)") {
  Gpt2Case c = gpt2_case();
  const auto rows = random_rows(kGpt2Lengths, c.model->vocab_size(), 21);
  const Padded batch = pad_rows(rows, all_rows(rows.size()), 0, /*left=*/false);
  c.m.mixed->set_row_tasks(kGpt2Tasks);
  const Tensor logits = c.model->forward(batch.ids, batch.mask);
  for (size_t b = 0; b < rows.size(); ++b) {
    const Padded one = pad_rows(rows, {int64_t(b)}, 0, false);
    const Tensor base = c.plain->forward(one.ids, one.mask);
    if (kGpt2Tasks[b] >= 0) attach_alone(c.m.mixed->task_sites(kGpt2Tasks[b]), c.plain_sites);
    const Tensor alone = c.plain->forward(one.ids, one.mask);
    detach_all(c.plain_sites);
    const int64_t n = int64_t(rows[b].size());
    const double diff = row_logits_diff(logits, int64_t(b), 0, alone, n);
    const double moved = row_logits_diff(logits, int64_t(b), 0, base, n);
    MESSAGE("row " << b << " task " << kGpt2Tasks[b] << ": max |mixed - alone| " << diff
                   << ", max |mixed - base model| " << moved << ", max |logit| " << max_abs(alone.to_vector()));
    CHECK(diff < kLogitsTolerance);
    if (kGpt2Tasks[b] >= 0) CHECK(moved > 1e-2);  // the task's method does act on its row
    else CHECK(moved < kLogitsTolerance);
  }
}

TEST_CASE("mixed GPT-2 batch: each task's gradients equal those of its rows alone") {
  Gpt2Case c = gpt2_case();
  const auto rows = random_rows(kGpt2Lengths, c.model->vocab_size(), 22);
  const Padded batch = pad_rows(rows, all_rows(rows.size()), 0, false);
  c.m.mixed->set_row_tasks(kGpt2Tasks);
  const Tensor logits = c.model->forward(batch.ids, batch.mask);
  // L = sum over tasks of the task's loss on its rows: the gradient of task t's parameters is that of its own loss
  Tensor loss;
  for (int64_t t = 0; t < c.m.mixed->task_count(); ++t) {
    const Padded own = pad_rows(rows, rows_of_task(kGpt2Tasks, t), 0, false, batch.width);
    const Tensor task_loss =
        c.model->loss(MixedBatch::gather_rows(logits, c.m.mixed->rows_of(t)), labels_of(own));
    loss = loss.defined() ? loss + task_loss : task_loss;
  }
  backward(loss);
  const auto mixed = take_gradients(c.m);
  for (int64_t t = 0; t < c.m.mixed->task_count(); ++t) {
    const Padded own = pad_rows(rows, rows_of_task(kGpt2Tasks, t), 0, false);
    attach_alone(c.m.mixed->task_sites(t), c.plain_sites);
    backward(c.plain->loss(c.plain->forward(own.ids, own.mask), labels_of(own)));
    detach_all(c.plain_sites);
    check_gradients(mixed[size_t(t)], take_gradients(c.m)[size_t(t)], c.m.mixed->task_name(t));
  }
  for (const auto& entry : c.model->named_parameters()) {  // the base model stays frozen
    INFO(entry.first);
    CHECK(!entry.second.grad().defined());
  }
}

void check_gpt2_generation(int64_t num_beams) {
  Gpt2Case c = gpt2_case();
  const auto rows = random_rows(kGpt2Lengths, c.model->vocab_size(), 23);
  const int64_t eos = c.model->eos_token_id();
  const Padded prompts = pad_rows(rows, all_rows(rows.size()), eos, /*left=*/true);
  GenerationConfig request;
  request.max_new_tokens = 6;
  request.num_beams = num_beams;
  request.do_sample = false;
  const GenerationConfig defaults = load_generation_config(kGpt2);
  MixedStepModel step(*c.model, *c.m.mixed, kGpt2Tasks);
  const Tensor out = generate(step, prompts.ids, prompts.mask, request, defaults);
  REQUIRE(out.size(0) == int64_t(rows.size()));
  int64_t changed = 0;  // rows whose task makes them generate other ids than the base model
  for (size_t b = 0; b < rows.size(); ++b) {
    const Padded one = pad_rows(rows, {int64_t(b)}, eos, true);
    const Tensor base = generate(*c.plain, one.ids, one.mask, request, defaults);
    if (kGpt2Tasks[b] >= 0) attach_alone(c.m.mixed->task_sites(kGpt2Tasks[b]), c.plain_sites);
    const Tensor alone = generate(*c.plain, one.ids, one.mask, request, defaults);
    detach_all(c.plain_sites);
    check_generated(out, int64_t(b), prompts.width, alone, one.width, eos);  // GPT-2 has no pad: EOS fills
    changed += generated_differs(out, int64_t(b), prompts.width, base, one.width);
  }
  MESSAGE("GPT-2, " << num_beams << " beam(s): " << changed << " of 6 task rows generate other ids than the base model");
  CHECK(changed >= 1);  // otherwise these ids could not tell a misrouted row
}

TEST_CASE("mixed GPT-2 batch: greedy generation gives each row the ids it gets alone") { check_gpt2_generation(1); }
TEST_CASE("mixed GPT-2 batch: beam search gives each row the ids it gets alone") { check_gpt2_generation(3); }

// ---------------------------------------------------------------- composed specs on task sites
// Task t holds kComposedSpecs[t], composed on its sites with seed 40 + t and randomized with seed 50 + t.
const std::vector<std::string> kComposedSpecs = {"mam", "lora:r=4,alpha=8@q,v,o"};
const std::vector<int64_t> kComposedTasks = {0, 1, -1, 1, 0};

std::shared_ptr<ComposedMethod> composed_task(const std::string& spec, Module& model, SiteMap* sites, size_t t) {
  auto method = sites ? compose(spec, model, *sites, 40 + t) : compose(spec, model, 40 + t);
  randomize(*method, 50 + t, 0.1);  // LoRA's B and the parallel adapter's up-projection start at zero
  return method;
}

TEST_CASE("mixed GPT-2 batch of composed specs (the mam preset, lora@q,v,o, none): each row's logits and greedy "
          "ids equal its spec composed on the model alone") {
  auto model = load_gpt2(kGpt2), plain = load_gpt2(kGpt2);
  model->train(false);
  plain->train(false);
  SiteMap sites = model->sites();
  MixedBatch mixed(sites);
  std::vector<std::shared_ptr<ComposedMethod>> tasks;
  for (size_t t = 0; t < kComposedSpecs.size(); ++t) {
    const int64_t index = mixed.add_task(kComposedSpecs[t]);
    tasks.push_back(composed_task(kComposedSpecs[t], *model, &mixed.task_sites(index), t));
  }
  MixedBatch::check_base_frozen(*model);
  const auto rows = random_rows({6, 4, 5, 7, 3}, model->vocab_size(), 31);
  const Padded batch = pad_rows(rows, all_rows(rows.size()), 0, /*left=*/false);
  mixed.set_row_tasks(kComposedTasks);
  const Tensor logits = model->forward(batch.ids, batch.mask);

  const int64_t eos = model->eos_token_id();
  const Padded prompts = pad_rows(rows, all_rows(rows.size()), eos, /*left=*/true);
  GenerationConfig request;
  request.max_new_tokens = 5;
  request.do_sample = false;
  const GenerationConfig defaults = load_generation_config(kGpt2);
  MixedStepModel step(*model, mixed, kComposedTasks);
  const Tensor generated = generate(step, prompts.ids, prompts.mask, request, defaults);

  for (size_t b = 0; b < rows.size(); ++b) {
    const int64_t t = kComposedTasks[b];
    const Padded one = pad_rows(rows, {int64_t(b)}, 0, false);
    const Tensor base = plain->forward(one.ids, one.mask);
    // the row alone: its task's spec composed straight on a plain copy, same seeds
    auto method = t >= 0 ? composed_task(kComposedSpecs[size_t(t)], *plain, nullptr, size_t(t)) : nullptr;
    const Tensor alone = plain->forward(one.ids, one.mask);
    const Padded prompt = pad_rows(rows, {int64_t(b)}, eos, true);
    const Tensor alone_ids = generate(*plain, prompt.ids, prompt.mask, request, defaults);
    if (method) method->detach();
    const int64_t n = int64_t(rows[b].size());
    const double diff = row_logits_diff(logits, int64_t(b), 0, alone, n);
    const double moved = row_logits_diff(logits, int64_t(b), 0, base, n);
    MESSAGE("row " << b << " task " << t << ": max |mixed - alone| " << diff << ", max |mixed - base model| " << moved);
    CHECK(diff < kLogitsTolerance);
    if (t >= 0) CHECK(moved > 1e-2);  // the task's method does act on its row
    else CHECK(moved < kLogitsTolerance);
    check_generated(generated, int64_t(b), prompts.width, alone_ids, prompt.width, eos);
  }
}

TEST_CASE("compose on task sites refuses what a mixed batch cannot hold: base-training methods, prompt tuning, "
          "sites of another model") {
  auto model = load_gpt2(kGpt2);
  SiteMap sites = model->sites();
  MixedBatch mixed(sites);
  const int64_t t = mixed.add_task("task");
  for (const std::string spec : {"full", "lora@q,v + bitfit", "ft_top:k=1", "sequential:train_ln=true@ffn"})
    CHECK_THROWS_WITH_AS(compose(spec, *model, mixed.task_sites(t)), doctest::Contains("trains base weights"), Error);
  CHECK_THROWS_WITH_AS(compose("prompt:l=4", *model, mixed.task_sites(t)), doctest::Contains("use prefix instead"),
                       Error);
  SiteMap other;
  CHECK_THROWS_WITH_AS(compose("lora@q,v", *model, other), doctest::Contains("do not mirror the model's"), Error);
  // nothing was attached by the refused specs: the task computes the base model
  CHECK(mixed.task_sites(t).linears.front().second->empty());
}

TEST_CASE("Houlsby's online setting: adding and training a new task leaves earlier tasks' logits and ids bit-identical") {
  Gpt2Case c = gpt2_case(/*all_tasks=*/false);  // tasks 0 (LoRA) and 1 (prefix) serve already
  const auto rows = random_rows({6, 4, 6, 5, 3}, c.model->vocab_size(), 24);
  const std::vector<int64_t> old_tasks = {0, 1, -1, 0, 1};
  const Padded batch = pad_rows(rows, all_rows(rows.size()), 0, false);
  c.m.mixed->set_row_tasks(old_tasks);
  const std::vector<double> before = c.model->forward(batch.ids, batch.mask).to_vector();
  const Padded prompts = pad_rows(rows, all_rows(rows.size()), c.model->eos_token_id(), /*left=*/true);
  GenerationConfig request;
  request.max_new_tokens = 5;
  request.num_beams = 2;
  request.do_sample = false;
  MixedStepModel step(*c.model, *c.m.mixed, old_tasks);
  const std::vector<double> generated_before = generate(step, prompts.ids, prompts.mask, request).to_vector();
  std::vector<std::vector<double>> old_parameters;
  for (const auto& method : c.m.methods)
    for (auto& [name, p] : method->named_parameters()) old_parameters.push_back(p.to_vector());

  // a new task arrives: an adapter and a longer prefix, trained on their own rows
  const Gpt2Config& cfg = c.model->config();
  const int64_t adapter = add_adapter(c.m, *c.model, cfg.n_embd, {"attn", "mlp"}, 31);
  const int64_t prefix = add_prefix(c.m, *c.model, cfg.n_layer, cfg.n_head, cfg.n_embd, 6, true, 32);
  std::vector<Tensor> trained = c.m.methods[size_t(adapter)]->trainable_parameters();
  for (const Tensor& p : c.m.methods[size_t(prefix)]->trainable_parameters()) trained.push_back(p);
  AdamW optimizer(trained, AdamWOptions{.lr = 1e-2});
  const auto new_rows = random_rows({5, 6, 4}, c.model->vocab_size(), 25);
  const Padded new_batch = pad_rows(new_rows, all_rows(new_rows.size()), 0, false);
  const std::vector<double> adapter_before = trained[0].to_vector();
  for (int step = 0; step < 3; ++step) {
    c.m.mixed->set_row_tasks({adapter, prefix, adapter});
    backward(c.model->loss(c.model->forward(new_batch.ids, new_batch.mask), labels_of(new_batch)));
    optimizer.step();
    optimizer.zero_grad();
  }
  CHECK(testing::max_abs_diff(adapter_before, trained[0].to_vector()) > 0.0);  // the new task did train

  c.m.mixed->set_row_tasks(old_tasks);
  const std::vector<double> after = c.model->forward(batch.ids, batch.mask).to_vector();
  REQUIRE(before.size() == after.size());
  size_t differing = 0;
  for (size_t i = 0; i < before.size(); ++i) differing += before[i] != after[i];
  CHECK(differing == 0);  // bit-identical, not merely close
  CHECK(generate(step, prompts.ids, prompts.mask, request).to_vector() == generated_before);
  size_t k = 0;
  for (size_t t = 0; t < 2; ++t)
    for (auto& [name, p] : c.m.methods[t]->named_parameters()) CHECK(p.to_vector() == old_parameters[k++]);
}

TEST_CASE("mixed batch: bad task indices, a wrong batch size, prompt tuning and a trainable base are errors") {
  Gpt2Case c = gpt2_case(false);
  CHECK_THROWS_AS(c.m.mixed->set_row_tasks({0, 2}), Error);
  CHECK_THROWS_AS(c.m.mixed->set_row_tasks({-2}), Error);
  CHECK_THROWS_AS(c.m.mixed->task_sites(5), Error);
  CHECK_THROWS_AS(c.m.mixed->add_task("lora"), Error);  // names are unique
  c.m.mixed->set_row_tasks({0, 1, -1});
  const Padded two = pad_rows(random_rows({3, 3}, 384, 26), {0, 1}, 0, false);
  CHECK_THROWS_WITH_AS(c.model->forward(two.ids, two.mask), doctest::Contains("the batch has 2 rows"), Error);

  const int64_t t = c.m.mixed->add_task("prompt");
  Generator gen(3);
  PromptTuning prompt(4, c.model->config().n_embd, gen);
  prompt.attach(c.m.mixed->task_sites(t), *c.model);
  CHECK_THROWS_WITH_AS(c.m.mixed->set_row_tasks({t}), doctest::Contains("embedding site"), Error);

  c.model->transformer->ln_f->weight.set_requires_grad(true);
  CHECK_THROWS_WITH_AS(MixedBatch::check_base_frozen(*c.model), doctest::Contains("transformer.ln_f.weight"), Error);
}

TEST_CASE("mixed batch: with every row on the base model the router changes nothing") {
  Gpt2Case c = gpt2_case();
  const auto rows = random_rows({5, 5}, c.model->vocab_size(), 27);
  const Padded batch = pad_rows(rows, {0, 1}, 0, false);
  c.m.mixed->set_row_tasks({-1, -1});
  const std::vector<double> routed = c.model->forward(batch.ids, batch.mask).to_vector();
  CHECK(routed == c.plain->forward(batch.ids, batch.mask).to_vector());
}

// ---------------------------------------------------------------- BART
struct BartCase {
  std::unique_ptr<BartForConditionalGeneration> model, plain;
  SiteMap plain_sites;
  Mixed m;
};

BartCase bart_case() {
  BartCase c;
  c.model = load_bart(kBart);
  c.model->train(false);
  c.plain = load_bart(kBart);
  c.plain->train(false);
  c.plain->set_trainable(false);
  c.plain_sites = c.plain->sites();
  c.m.sites = c.model->sites();
  c.m.mixed = std::make_unique<MixedBatch>(c.m.sites);
  const BartConfig& cfg = c.model->config();
  const int64_t attentions = int64_t(c.m.sites.key_values.size());  // encoder self, decoder self and cross
  add_lora(c.m, *c.model, {"q_proj", "v_proj"}, 41, 1.0);                                                // 0
  add_prefix(c.m, *c.model, attentions, cfg.encoder_attention_heads, cfg.d_model, 2, true, 42, 1.0);         // 1
  add_adapter(c.m, *c.model, cfg.d_model, {"self_attn", "ffn"}, 43, 1.0);                               // 2
  add_prefix(c.m, *c.model, attentions, cfg.encoder_attention_heads, cfg.d_model, 4, false, 44, 3.0);        // 3
  MixedBatch::check_base_frozen(*c.model);
  return c;
}

const std::vector<int64_t> kBartTasks = {0, 1, -1, 2, 3};
const std::vector<int64_t> kBartLengths = {6, 4, 5, 3, 6};

TEST_CASE("mixed BART batch: each row's logits equal the row alone, and each task's gradients its rows' alone") {
  BartCase c = bart_case();
  const int64_t V = c.model->vocab_size(), pad = c.model->pad_token_id();
  const auto sources = random_rows(kBartLengths, V, 51);
  const auto targets = random_rows(std::vector<int64_t>(kBartLengths.size(), 4), V, 52);
  const Padded src = pad_rows(sources, all_rows(sources.size()), pad, false);
  const Padded tgt = pad_rows(targets, all_rows(targets.size()), pad, false);
  c.m.mixed->set_row_tasks(kBartTasks);
  const Tensor decoder_ids = c.model->shift_tokens_right(tgt.ids);
  const Tensor logits = c.model->forward(src.ids, src.mask, decoder_ids);
  Tensor loss;
  for (int64_t t = 0; t < c.m.mixed->task_count(); ++t) {
    const Padded own = pad_rows(targets, rows_of_task(kBartTasks, t), pad, false);
    const Tensor task_loss = c.model->loss(MixedBatch::gather_rows(logits, c.m.mixed->rows_of(t)), own.ids);
    loss = loss.defined() ? loss + task_loss : task_loss;
  }
  backward(loss);
  const auto mixed_gradients = take_gradients(c.m);

  for (size_t b = 0; b < sources.size(); ++b) {
    const Padded one_src = pad_rows(sources, {int64_t(b)}, pad, false);
    const Padded one_tgt = pad_rows(targets, {int64_t(b)}, pad, false);
    const Tensor one_decoder = c.plain->shift_tokens_right(one_tgt.ids);
    const Tensor base = c.plain->forward(one_src.ids, one_src.mask, one_decoder);
    if (kBartTasks[b] >= 0) attach_alone(c.m.mixed->task_sites(kBartTasks[b]), c.plain_sites);
    const Tensor alone = c.plain->forward(one_src.ids, one_src.mask, one_decoder);
    detach_all(c.plain_sites);
    const double diff = row_logits_diff(logits, int64_t(b), 0, alone, 4);
    const double moved = row_logits_diff(logits, int64_t(b), 0, base, 4);
    MESSAGE("BART row " << b << " task " << kBartTasks[b] << ": max |mixed - alone| " << diff
                        << ", max |mixed - base model| " << moved);
    CHECK(diff < kLogitsTolerance);
    if (kBartTasks[b] >= 0) CHECK(moved > 1e-3);
    else CHECK(moved < kLogitsTolerance);
  }
  for (int64_t t = 0; t < c.m.mixed->task_count(); ++t) {
    const std::vector<int64_t> own = rows_of_task(kBartTasks, t);
    const Padded own_src = pad_rows(sources, own, pad, false), own_tgt = pad_rows(targets, own, pad, false);
    attach_alone(c.m.mixed->task_sites(t), c.plain_sites);
    const Tensor own_logits = c.plain->forward(own_src.ids, own_src.mask, c.plain->shift_tokens_right(own_tgt.ids));
    backward(c.plain->loss(own_logits, own_tgt.ids));
    detach_all(c.plain_sites);
    check_gradients(mixed_gradients[size_t(t)], take_gradients(c.m)[size_t(t)], "BART " + c.m.mixed->task_name(t));
  }
}

void check_bart_generation(int64_t num_beams) {
  BartCase c = bart_case();
  const int64_t pad = c.model->pad_token_id();
  const auto sources = random_rows(kBartLengths, c.model->vocab_size(), 53);
  const Padded src = pad_rows(sources, all_rows(sources.size()), pad, false);
  GenerationConfig request;
  request.max_new_tokens = 6;
  request.num_beams = num_beams;
  request.do_sample = false;
  const GenerationConfig defaults = load_generation_config(kBart);
  MixedStepModel step(*c.model, *c.m.mixed, kBartTasks);
  const Tensor out = generate(step, src.ids, src.mask, request, defaults);
  REQUIRE(out.size(0) == int64_t(sources.size()));
  int64_t changed = 0;
  for (size_t b = 0; b < sources.size(); ++b) {
    const Padded one = pad_rows(sources, {int64_t(b)}, pad, false);
    const Tensor base = generate(*c.plain, one.ids, one.mask, request, defaults);
    if (kBartTasks[b] >= 0) attach_alone(c.m.mixed->task_sites(kBartTasks[b]), c.plain_sites);
    const Tensor alone = generate(*c.plain, one.ids, one.mask, request, defaults);
    detach_all(c.plain_sites);
    check_generated(out, int64_t(b), 1, alone, 1, pad);  // both start from the decoder start token
    changed += generated_differs(out, int64_t(b), 1, base, 1);
  }
  MESSAGE("BART, " << num_beams << " beam(s): " << changed << " of 4 task rows generate other ids than the base model");
  CHECK(changed >= 1);  // otherwise these ids could not tell a misrouted row
}

TEST_CASE("mixed BART batch: greedy generation gives each row the ids it gets alone") { check_bart_generation(1); }
TEST_CASE("mixed BART batch: beam search gives each row the ids it gets alone") { check_bart_generation(3); }

}  // namespace

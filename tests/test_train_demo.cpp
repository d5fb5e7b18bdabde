// The embedded default job of `train` really learns: its loss falls well below chance.
#include <cmath>

#include "support/tensor_helpers.h"
#include "train/lib/demo_task.h"

using namespace petl;

TEST_CASE("train demo: batches follow x[t+1] = (x[t] + k) mod V with the first target ignored") {
  train::DemoConfig cfg;
  Generator gen(3);
  auto batch = train::make_demo_batch(cfg, gen);
  CHECK(batch.inputs.shape() == Shape{cfg.batch, cfg.seq_len});
  for (int64_t b = 0; b < cfg.batch; ++b) {
    CHECK(batch.targets.at({b, 0}) == -100.0);
    const int64_t k = (int64_t(batch.inputs.at({b, 1})) - int64_t(batch.inputs.at({b, 0})) + cfg.vocab) % cfg.vocab;
    CHECK(k >= 1);
    CHECK(k <= 4);
    for (int64_t t = 1; t < cfg.seq_len; ++t)
      CHECK(int64_t(batch.targets.at({b, t})) == (int64_t(batch.inputs.at({b, t})) + k) % cfg.vocab);
  }
}

TEST_CASE("train demo: the loss falls from chance to well below it") {
  train::DemoConfig cfg;
  cfg.steps = 120;
  int64_t logged = 0;
  auto r = train::run_demo(cfg, 40, [&](int64_t, double) { ++logged; });
  CHECK(r.first_loss == doctest::Approx(std::log(16.0)).epsilon(0.05));
  CHECK(r.last_loss < 0.5 * r.first_loss);
  CHECK(logged == 4);  // steps 1, 40, 80, 120
}

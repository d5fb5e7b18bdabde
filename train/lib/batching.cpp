#include "train/lib/batching.h"

#include <algorithm>
#include <numeric>

#include "tensor/error.h"
#include "tensor/random.h"

namespace petl::train {

void shuffle_indices(std::vector<int64_t>& indices, uint64_t seed, uint64_t stream) {
  const uint64_t key = mix64(seed ^ mix64(stream + 0x5851F42D4C957F2Dull));
  for (size_t i = indices.size(); i > 1; --i) {
    const uint64_t j = random_bits(key, i) % i;
    std::swap(indices[i - 1], indices[j]);
  }
}

std::vector<std::vector<int64_t>> epoch_batches(const std::vector<Example>& examples, int64_t batch_size,
                                                int64_t pool_batches, uint64_t seed, int64_t epoch) {
  PETL_CHECK(batch_size >= 1 && pool_batches >= 1, "epoch_batches: batch size ", batch_size, " and pool ",
             pool_batches, " must be >= 1");
  std::vector<int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle_indices(order, seed, 2 * uint64_t(epoch));
  const size_t pool = size_t(batch_size * pool_batches);
  for (size_t start = 0; start < order.size(); start += pool) {
    const auto first = order.begin() + std::ptrdiff_t(start);
    const auto last = order.begin() + std::ptrdiff_t(std::min(order.size(), start + pool));
    std::stable_sort(first, last, [&](int64_t a, int64_t b) { return examples[a].ids.size() < examples[b].ids.size(); });
  }
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += size_t(batch_size))
    batches.emplace_back(order.begin() + std::ptrdiff_t(start),
                         order.begin() + std::ptrdiff_t(std::min(order.size(), start + size_t(batch_size))));
  std::vector<int64_t> batch_order(batches.size());
  std::iota(batch_order.begin(), batch_order.end(), 0);
  shuffle_indices(batch_order, seed, 2 * uint64_t(epoch) + 1);
  std::vector<std::vector<int64_t>> shuffled;
  shuffled.reserve(batches.size());
  for (int64_t b : batch_order) shuffled.push_back(std::move(batches[size_t(b)]));
  return shuffled;
}

Batch make_batch(const std::vector<Example>& examples, const std::vector<int64_t>& indices, int64_t pad_id) {
  PETL_CHECK(!indices.empty(), "make_batch: no examples");
  size_t width = 0;
  for (int64_t i : indices) width = std::max(width, examples[size_t(i)].ids.size());
  const int64_t rows = int64_t(indices.size()), cols = int64_t(width);
  std::vector<int64_t> ids(size_t(rows * cols), pad_id), labels(size_t(rows * cols), -100);
  std::vector<float> mask(size_t(rows * cols), 0.0f);
  Batch batch;
  for (int64_t r = 0; r < rows; ++r) {
    const Example& ex = examples[size_t(indices[size_t(r)])];
    PETL_CHECK(ex.labels.size() == ex.ids.size(), "make_batch: example ", indices[size_t(r)], " has ",
               ex.ids.size(), " ids but ", ex.labels.size(), " labels");
    for (size_t t = 0; t < ex.ids.size(); ++t) {
      ids[size_t(r * cols) + t] = ex.ids[t];
      labels[size_t(r * cols) + t] = ex.labels[t];
      mask[size_t(r * cols) + t] = 1.0f;
    }
    batch.tokens += int64_t(ex.ids.size());
  }
  batch.ids = from_vector(ids, {rows, cols});
  batch.labels = from_vector(labels, {rows, cols});
  batch.mask = from_vector(mask, {rows, cols});
  batch.indices = indices;
  size_t target_width = 0;
  for (int64_t i : indices) target_width = std::max(target_width, examples[size_t(i)].decoder_labels.size());
  if (target_width > 0) {
    std::vector<int64_t> targets(size_t(rows) * target_width, -100);
    for (int64_t r = 0; r < rows; ++r) {
      const auto& t = examples[size_t(indices[size_t(r)])].decoder_labels;
      std::copy(t.begin(), t.end(), targets.begin() + std::ptrdiff_t(size_t(r) * target_width));
      batch.tokens += int64_t(t.size());
    }
    batch.decoder_labels = from_vector(targets, {rows, int64_t(target_width)});
  }
  return batch;
}

}  // namespace petl::train

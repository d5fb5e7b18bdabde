// Training examples, their order and their batches.
//
// Order (deterministic from seed and epoch, so a resumed run replays it): shuffle the examples,
// cut the shuffled list into pools of `batch · pool_batches` examples, sort each pool by length
// (length bucketing: a batch holds examples of similar length, so little is padding), cut the
// pools into batches, then shuffle the batches so the long ones do not all come together.
// Padding is dynamic: a batch is padded to its own longest example, on the right.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace petl::train {

// One sequence: token ids and the labels the loss reads (-100 where it must not: the source and
// the separator of a conditional example). labels.size() == ids.size().
struct Example {
  std::vector<int64_t> ids, labels;
  // Encoder-decoder examples (BART): ids are the encoder's input, labels all -100, and the decoder's
  // labels are these (the target, framed by the tokenizer). Empty for a causal LM.
  std::vector<int64_t> decoder_labels = {};  // (a default, so {ids, labels} initializes an LM example)
};

struct Batch {
  Tensor ids;     // [B, T] int64, padded with `pad_id`
  Tensor labels;  // [B, T] int64, -100 on padding
  Tensor mask;    // [B, T] float32: 1 token, 0 padding
  Tensor decoder_labels;  // [B, T'] int64, -100 on padding; undefined unless the examples have them
  int64_t tokens = 0;  // real tokens in the batch (encoder and decoder)
  std::vector<int64_t> indices;  // the examples' indices, row by row (a loss may rebuild its own inputs)
};

// The batches of one epoch, as lists of example indices.
std::vector<std::vector<int64_t>> epoch_batches(const std::vector<Example>& examples, int64_t batch_size,
                                                int64_t pool_batches, uint64_t seed, int64_t epoch);

Batch make_batch(const std::vector<Example>& examples, const std::vector<int64_t>& indices, int64_t pad_id);

// A Fisher-Yates shuffle driven by the counter-based RNG (tensor/random.h): the same (seed, stream)
// gives the same permutation on every machine.
void shuffle_indices(std::vector<int64_t>& indices, uint64_t seed, uint64_t stream);

}  // namespace petl::train

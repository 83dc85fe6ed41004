// dataset.h — next-token training examples and the order they are served in.
//
// Shape letters: B = batch size, T = block size (context length).
// A Dataset is a fixed list of examples; example k fills inputs[T] and targets[T] where a target
// of -1 means "no loss here" (padding, prompt tokens). A BatchIterator walks the examples in
// sequential or seeded-shuffled order, B at a time, forever (epoch after epoch); its position
// (epoch, cursor) plus the seed is all a checkpoint needs to replay the stream exactly.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "data/permutation.h"
#include "data/token_source.h"

namespace tg {

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> inputs;   // [B, T] row-major token ids
  std::vector<int32_t> targets;  // [B, T] next-token ids; -1 = ignored (masked)
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t num_examples() const = 0;
  virtual int64_t block_size() const = 0;  // T
  // Fills inputs[0..T) and targets[0..T) with example k, 0 <= k < num_examples().
  virtual void example(int64_t k, int32_t* inputs, int32_t* targets) const = 0;
};

// Windows sliding over one token sequence: example k has
//   inputs  = tokens[k*S     .. k*S + T)
//   targets = tokens[k*S + 1 .. k*S + T + 1)
// Only whole windows: num_examples = floor((N - T - 1) / S) + 1 for N >= T + 1 tokens, and the
// last partial window (fewer than T + 1 tokens left) is dropped — at most S - 1 tokens at the
// end are never a target.
class SlidingWindowDataset : public Dataset {
 public:
  // Throws std::invalid_argument if T < 1 or S < 1, and std::runtime_error naming the source
  // if it holds fewer than T + 1 tokens.
  SlidingWindowDataset(std::shared_ptr<const TokenSource> tokens, int64_t block_size, int64_t stride = 1);
  // Convenience: tokens held in memory.
  SlidingWindowDataset(std::vector<int32_t> tokens, int64_t vocab_size, int64_t block_size, int64_t stride = 1);

  int64_t num_examples() const override { return num_examples_; }
  int64_t block_size() const override { return T_; }
  int64_t stride() const { return S_; }
  void example(int64_t k, int32_t* inputs, int32_t* targets) const override;
  const TokenSource& tokens() const { return *tokens_; }

 private:
  std::shared_ptr<const TokenSource> tokens_;
  int64_t T_, S_, num_examples_;
};

// Where a BatchIterator is in its stream: `cursor` examples of epoch `epoch` have been served.
struct DataPosition {
  uint64_t epoch = 0;
  uint64_t cursor = 0;
};

// Serves batches of B examples, forever.
//  - sequential: the examples in order; batch i holds examples i*B .. i*B+B-1 (mod the count:
//    a batch that runs past the end continues with example 0 of the next epoch).
//  - shuffled: epoch e visits the examples in the order of RandomPermutation(n, seed ⊕ e),
//    the same on every machine and standard library.
class BatchIterator {
 public:
  // The dataset must outlive the iterator.
  BatchIterator(const Dataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed);

  Batch next();
  void next(Batch* batch);  // reuses batch's buffers: no allocation in the training loop
  DataPosition position() const { return pos_; }
  // Continues from a saved position; throws std::invalid_argument if cursor > num_examples.
  void seek(const DataPosition& position);
  // The example index served at `cursor` of `epoch`.
  int64_t example_index(uint64_t epoch, uint64_t cursor) const;

 private:
  const Dataset& data_;
  int64_t B_;
  bool shuffle_;
  uint64_t seed_;
  DataPosition pos_;
  RandomPermutation perm_;  // of the current epoch (when shuffled)
  uint64_t perm_epoch_ = 0;
};

}  // namespace tg

// dataset.cpp — SlidingWindowDataset and BatchIterator (see dataset.h).
#include "data/dataset.h"

#include <stdexcept>
#include <string>

namespace tg {
namespace {

uint64_t epoch_seed(uint64_t seed, uint64_t epoch) { return splitmix64(seed ^ splitmix64(epoch)); }

}  // namespace

SlidingWindowDataset::SlidingWindowDataset(std::shared_ptr<const TokenSource> tokens, int64_t block_size,
                                           int64_t stride)
    : tokens_(std::move(tokens)), T_(block_size), S_(stride) {
  if (!tokens_) throw std::invalid_argument("SlidingWindowDataset: no token source");
  if (T_ < 1) throw std::invalid_argument("SlidingWindowDataset: block_size must be >= 1, got " + std::to_string(T_));
  if (S_ < 1) throw std::invalid_argument("SlidingWindowDataset: stride must be >= 1, got " + std::to_string(S_));
  const int64_t n = tokens_->size();
  if (n <= T_)  // block_size + 1 in unsigned: block_size may be INT64_MAX
    throw std::runtime_error(tokens_->name() + ": " + std::to_string(n) + " tokens, too few for one example of block_size " +
                             std::to_string(T_) + " (needs at least " + std::to_string(static_cast<uint64_t>(T_) + 1) + ")");
  num_examples_ = (n - T_ - 1) / S_ + 1;
}

SlidingWindowDataset::SlidingWindowDataset(std::vector<int32_t> tokens, int64_t vocab_size, int64_t block_size,
                                           int64_t stride)
    : SlidingWindowDataset(std::make_shared<const TokenVector>(std::move(tokens), vocab_size), block_size, stride) {}

void SlidingWindowDataset::example(int64_t k, int32_t* inputs, int32_t* targets) const {
  if (k < 0 || k >= num_examples_)
    throw std::out_of_range("example " + std::to_string(k) + " outside [0, " + std::to_string(num_examples_) + ")");
  const int64_t start = k * S_;
  tokens_->read(start, T_, inputs);
  // targets = inputs shifted by one: copy T-1 from inputs, read only the last one.
  for (int64_t t = 0; t + 1 < T_; ++t) targets[t] = inputs[t + 1];
  tokens_->read(start + T_, 1, targets + T_ - 1);
}

BatchIterator::BatchIterator(const Dataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed)
    : data_(dataset), B_(batch_size), shuffle_(shuffle), seed_(seed),
      perm_(static_cast<uint64_t>(dataset.num_examples()), epoch_seed(seed, 0)) {
  if (B_ < 1) throw std::invalid_argument("BatchIterator: batch_size must be >= 1, got " + std::to_string(B_));
  if (dataset.num_examples() < 1) throw std::invalid_argument("BatchIterator: the dataset has no examples");
}

int64_t BatchIterator::example_index(uint64_t epoch, uint64_t cursor) const {
  if (!shuffle_) return static_cast<int64_t>(cursor);
  if (epoch == perm_epoch_) return static_cast<int64_t>(perm_(cursor));
  return static_cast<int64_t>(RandomPermutation(static_cast<uint64_t>(data_.num_examples()), epoch_seed(seed_, epoch))(cursor));
}

void BatchIterator::next(Batch* batch) {
  const int64_t T = data_.block_size();
  const auto n = static_cast<uint64_t>(data_.num_examples());
  batch->B = B_;
  batch->T = T;
  batch->inputs.resize(static_cast<size_t>(B_ * T));
  batch->targets.resize(static_cast<size_t>(B_ * T));
  for (int64_t b = 0; b < B_; ++b) {
    if (pos_.cursor >= n) {  // wrap into the next epoch
      ++pos_.epoch;
      pos_.cursor = 0;
    }
    if (shuffle_ && perm_epoch_ != pos_.epoch) {
      perm_ = RandomPermutation(n, epoch_seed(seed_, pos_.epoch));
      perm_epoch_ = pos_.epoch;
    }
    const int64_t k = example_index(pos_.epoch, pos_.cursor);
    data_.example(k, batch->inputs.data() + b * T, batch->targets.data() + b * T);
    ++pos_.cursor;
  }
}

Batch BatchIterator::next() {
  Batch batch;
  next(&batch);
  return batch;
}

void BatchIterator::seek(const DataPosition& position) {
  // cursor == num_examples is allowed: it is where an epoch ends (next() wraps).
  if (position.cursor > static_cast<uint64_t>(data_.num_examples()))
    throw std::invalid_argument("BatchIterator::seek: cursor " + std::to_string(position.cursor) +
                                " is past the dataset's " + std::to_string(data_.num_examples()) + " examples");
  pos_ = position;
}

}  // namespace tg

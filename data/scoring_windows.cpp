// scoring_windows.cpp — see scoring_windows.h.
#include "data/scoring_windows.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace tg {

ScoringWindowDataset::ScoringWindowDataset(std::shared_ptr<const TokenSource> tokens, int64_t block_size)
    : tokens_(std::move(tokens)), T_(block_size) {
  if (!tokens_) throw std::invalid_argument("ScoringWindowDataset: no token source");
  if (T_ < 1) throw std::invalid_argument("ScoringWindowDataset: block_size must be >= 1, got " + std::to_string(T_));
  const int64_t n = tokens_->size();
  if (n < 2)
    throw std::runtime_error(tokens_->name() + ": " + std::to_string(n) +
                             " token(s), too few to score (needs at least 2: one to predict from, one to predict)");
  num_examples_ = (n - 2) / T_ + 1;  // ceil((n - 1) / T) targets' windows, without overflow
}

ScoringWindowDataset::ScoringWindowDataset(std::vector<int32_t> tokens, int64_t vocab_size, int64_t block_size)
    : ScoringWindowDataset(std::make_shared<const TokenVector>(std::move(tokens), vocab_size), block_size) {}

void ScoringWindowDataset::example(int64_t k, int32_t* inputs, int32_t* targets) const {
  if (k < 0 || k >= num_examples_)
    throw std::out_of_range("example " + std::to_string(k) + " outside [0, " + std::to_string(num_examples_) + ")");
  const int64_t start = k * T_;
  const int64_t len = std::min(T_, tokens_->size() - 1 - start);  // targets in this window
  tokens_->read(start, len, inputs);
  for (int64_t t = 0; t + 1 < len; ++t) targets[t] = inputs[t + 1];
  tokens_->read(start + len, 1, targets + len - 1);
  std::fill(inputs + len, inputs + T_, 0);
  std::fill(targets + len, targets + T_, -1);
}

}  // namespace tg

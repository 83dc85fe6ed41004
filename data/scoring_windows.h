// scoring_windows.h — the windows evaluation scores a token stream with: every token after the
// first is a target exactly once. Window k holds tokens [k·T, k·T + T); the last window is
// shorter, its missing positions padded (input 0, target ignored). Causal attention keeps the
// padding from touching the real positions before it.
//
// (A SlidingWindowDataset with stride T drops up to T - 1 tokens at the end and refuses a text
// of T tokens or fewer: `eval` of a short paragraph scored half of it, or nothing.)
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace tg {

class ScoringWindowDataset : public Dataset {
 public:
  // Throws std::runtime_error naming the source if it holds fewer than 2 tokens.
  ScoringWindowDataset(std::shared_ptr<const TokenSource> tokens, int64_t block_size);
  ScoringWindowDataset(std::vector<int32_t> tokens, int64_t vocab_size, int64_t block_size);

  int64_t num_examples() const override { return num_examples_; }
  int64_t block_size() const override { return T_; }
  void example(int64_t k, int32_t* inputs, int32_t* targets) const override;

 private:
  std::shared_ptr<const TokenSource> tokens_;
  int64_t T_, num_examples_;
};

}  // namespace tg

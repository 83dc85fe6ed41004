// bpe_trainer.h — learns byte-level BPE merges from a corpus (the "bpe" tokenizer kind).
//
// Words are GPT-2 pre-split pieces (pre_split.h), counted once; a merge then only revisits the
// words that contain the merged pair. Pair counts are kept up to date incrementally and the most
// frequent pair is found through a max-heap with lazy deletion, so each merge costs time in
// proportion to the words it touches, not to the corpus: a few MB train in seconds.
// Ties (equal counts) go to the pair with the smaller (left, right) ids, so training is
// deterministic on every machine.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tg {

// Pre-split word frequencies of a text fed in pieces.
class BpeWordCounter {
 public:
  // text must not end in the middle of a pre-split piece: feed whole lines or whole files.
  void add(std::string_view text);
  const std::unordered_map<std::string, int64_t>& counts() const { return counts_; }
  int64_t bytes() const { return bytes_; }

 private:
  std::unordered_map<std::string, int64_t> counts_;
  int64_t bytes_ = 0;
};

// Learns up to num_merges merges over byte ids 0..255; merge r creates token id 256 + r.
// Stops early when no adjacent pair is left. Returns (left, right) id pairs in rank order.
std::vector<std::pair<int32_t, int32_t>> learn_bpe_merges(
    const std::unordered_map<std::string, int64_t>& word_counts, int64_t num_merges);

}  // namespace tg

// bpe_tokenizer.h — byte-level BPE trained on our own corpus (kind "bpe").
// Ids: 0..255 are the bytes themselves, 256+r is the token made by merge r, and the last id is
// <|endoftext|>. So vocab_size = 256 + merges + 1.
#pragma once
#include <string_view>
#include <utility>
#include <vector>

#include "data/byte_pair_model.h"
#include "data/tokenizer.h"

namespace tg {

class BpeTokenizer : public Tokenizer {
 public:
  // merges[r] = (left, right): ids < 256 + r.
  explicit BpeTokenizer(const std::vector<std::pair<int32_t, int32_t>>& merges);
  // Trains on text to vocab_size (>= 257) tokens, or fewer if the text runs out of pairs.
  static BpeTokenizer train(std::string_view text, int64_t vocab_size);
  // From word counts gathered by BpeWordCounter (streaming over a corpus sample).
  static BpeTokenizer train(const std::unordered_map<std::string, int64_t>& word_counts,
                            int64_t vocab_size);

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string token_bytes(int32_t id) const override;
  int64_t vocab_size() const override { return model_.size() + 1; }
  std::string kind() const override { return "bpe"; }
  int32_t eot_id() const override { return static_cast<int32_t>(model_.size()); }
  std::string to_json() const override;

 private:
  BytePairModel model_;
};

}  // namespace tg

// byte_pair_model.h — the byte-level BPE engine shared by the bpe and gpt2 tokenizers: a
// vocabulary of byte strings, the 256 single-byte tokens, and merges ranked by priority.
//
// Encoding (as GPT-2's encoder.py): pre-split the text (pre_split.h); inside each piece start
// from one token per byte, then repeatedly take the adjacent pair with the lowest merge rank and
// merge all of its occurrences left to right, until no adjacent pair has a merge. (Done with a
// heap of candidate pairs, so a long piece, e.g. a line of base64, costs O(n log n), not O(n²).)
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tg {

class BytePairModel {
 public:
  struct Merge {
    int32_t left, right, result;  // token ids; rank = position in the merge list
  };
  BytePairModel() = default;
  // tokens[id] = bytes of token id; byte_ids[b] = id of the one-byte token b; merges in rank
  // order. Throws std::invalid_argument on an inconsistent model (ids out of range, a result
  // whose bytes are not left+right).
  BytePairModel(std::vector<std::string> tokens, const std::array<int32_t, 256>& byte_ids,
                std::vector<Merge> merges);

  // Appends the ids of text to *out.
  void encode(std::string_view text, std::vector<int32_t>* out) const;
  // Appends the ids of one pre-split piece to *out.
  void encode_piece(std::string_view piece, std::vector<int32_t>* out) const;
  // Applies the merges to word (token ids) in GPT-2's order, in place.
  void merge_pairs(std::vector<int32_t>* word) const;

  const std::string& bytes(int32_t id) const { return tokens_[id]; }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::vector<Merge>& merges() const { return merges_; }

 private:
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::vector<std::string> tokens_;
  std::array<int32_t, 256> byte_ids_{};
  std::vector<Merge> merges_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> rank_;  // key(a,b) → (rank, result)
  uint64_t instance_ = 0;  // distinguishes models in the per-thread piece cache
};

}  // namespace tg

// byte_pair_model.cpp — see byte_pair_model.h.
#include "data/byte_pair_model.h"

#include <atomic>
#include <limits>
#include <stdexcept>

#include "data/pre_split.h"

namespace tg {
namespace {

// Words repeat (Zipf): caching each piece's ids makes encoding several times faster, as in
// GPT-2's encoder. The cache is per thread (no locking when prepare encodes in parallel) and
// bounded (cleared when full) so memory stays flat on corpora of any size.
constexpr size_t kCacheMaxEntries = 1 << 18;
constexpr size_t kCacheMaxPieceBytes = 64;

struct PieceCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<int32_t>> ids;
};

std::atomic<uint64_t> next_instance{1};

}  // namespace

BytePairModel::BytePairModel(std::vector<std::string> tokens,
                             const std::array<int32_t, 256>& byte_ids, std::vector<Merge> merges)
    : tokens_(std::move(tokens)), byte_ids_(byte_ids), merges_(std::move(merges)),
      instance_(next_instance++) {
  const auto n = static_cast<int32_t>(tokens_.size());
  for (int b = 0; b < 256; ++b) {
    const int32_t id = byte_ids_[b];
    if (id < 0 || id >= n || tokens_[id] != std::string(1, static_cast<char>(b)))
      throw std::invalid_argument("byte-level BPE: no single-byte token for byte " + std::to_string(b));
  }
  rank_.reserve(merges_.size() * 2);
  for (size_t r = 0; r < merges_.size(); ++r) {
    const Merge& m = merges_[r];
    if (m.left < 0 || m.left >= n || m.right < 0 || m.right >= n || m.result < 0 || m.result >= n)
      throw std::invalid_argument("byte-level BPE: merge " + std::to_string(r) + " has an id out of range");
    if (tokens_[m.result] != tokens_[m.left] + tokens_[m.right])
      throw std::invalid_argument("byte-level BPE: merge " + std::to_string(r) +
                                  " result is not the concatenation of its two tokens");
    // Keep the first (lowest) rank if a pair is listed twice.
    rank_.emplace(key(m.left, m.right), std::make_pair(static_cast<int32_t>(r), m.result));
  }
}

void BytePairModel::encode(std::string_view text, std::vector<int32_t>* out) const {
  thread_local std::vector<std::string_view> pieces;
  pieces.clear();
  gpt2_pre_split(text, &pieces);
  for (std::string_view p : pieces) encode_piece(p, out);
}

void BytePairModel::encode_piece(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.size() == 1) {
    out->push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  thread_local PieceCache cache;
  const bool cacheable = piece.size() <= kCacheMaxPieceBytes;
  if (cacheable) {
    if (cache.owner != instance_) {
      cache.ids.clear();
      cache.owner = instance_;
    }
    // C++17 has no heterogeneous lookup for unordered_map: a short key string is cheap.
    auto it = cache.ids.find(std::string(piece));
    if (it != cache.ids.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }

  thread_local std::vector<int32_t> word, merged;
  word.clear();
  for (char c : piece) word.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  while (word.size() > 1) {
    // The lowest-ranked adjacent pair that has a merge.
    int32_t best_rank = std::numeric_limits<int32_t>::max(), a = -1, b = -1, result = -1;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = rank_.find(key(word[i], word[i + 1]));
      if (it != rank_.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        a = word[i], b = word[i + 1], result = it->second.second;
      }
    }
    if (a < 0) break;
    // Merge every occurrence, left to right, non-overlapping.
    merged.clear();
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == a && word[i + 1] == b) {
        merged.push_back(result);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word.swap(merged);
  }
  out->insert(out->end(), word.begin(), word.end());
  if (cacheable) {
    if (cache.ids.size() >= kCacheMaxEntries) cache.ids.clear();
    cache.ids.emplace(std::string(piece), word);
  }
}

}  // namespace tg

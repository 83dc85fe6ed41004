// byte_pair_model.cpp — see byte_pair_model.h.
#include "data/byte_pair_model.h"

#include <algorithm>
#include <atomic>
#include <functional>
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

  thread_local std::vector<int32_t> word;
  word.clear();
  for (char c : piece) word.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  merge_pairs(&word);
  out->insert(out->end(), word.begin(), word.end());
  if (cacheable) {
    if (cache.ids.size() >= kCacheMaxEntries) cache.ids.clear();
    cache.ids.emplace(std::string(piece), word);
  }
}

// The reference rescans the word after each merge: O(n²) for a piece of n bytes, minutes for a
// line of a few MB (base64, minified JSON). Here symbols are a linked list over word, and every
// adjacent pair that has a merge waits in a heap ordered by (rank, position). The pairs of the
// lowest rank are merged left to right, skipping those a merge on their left has already
// consumed; only then are the pairs the merged symbols make with their neighbours added. That is
// the reference's order: the next rank taken is the lowest among the word's pairs as they are.
void BytePairModel::merge_pairs(std::vector<int32_t>* word_ptr) const {
  std::vector<int32_t>& word = *word_ptr;  // a merged-away symbol becomes -1
  if (word.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw std::length_error("byte-level BPE: a piece of " + std::to_string(word.size()) +
                            " bytes (at most 2^31 - 1)");
  const auto n = static_cast<int32_t>(word.size());
  struct Pair {
    int32_t rank, left_pos, left, right, result;
    bool operator>(const Pair& o) const {
      return rank != o.rank ? rank > o.rank : left_pos > o.left_pos;
    }
  };
  thread_local std::vector<int32_t> next, prev, merged_at;
  thread_local std::vector<Pair> heap;
  next.resize(n);
  prev.resize(n);
  heap.clear();
  for (int32_t i = 0; i < n; ++i) next[i] = i + 1, prev[i] = i - 1;
  auto add_pair = [&](int32_t pos) {  // the pair (pos, its right neighbour), if it has a merge
    if (pos < 0 || next[pos] >= n) return;
    auto it = rank_.find(key(word[pos], word[next[pos]]));
    if (it == rank_.end()) return;
    heap.push_back({it->second.first, pos, word[pos], word[next[pos]], it->second.second});
    std::push_heap(heap.begin(), heap.end(), std::greater<Pair>());
  };
  for (int32_t i = 0; i + 1 < n; ++i) add_pair(i);
  while (!heap.empty()) {
    const int32_t rank = heap.front().rank;
    merged_at.clear();
    while (!heap.empty() && heap.front().rank == rank) {
      const Pair p = heap.front();
      std::pop_heap(heap.begin(), heap.end(), std::greater<Pair>());
      heap.pop_back();
      const int32_t right = next[p.left_pos];
      if (word[p.left_pos] != p.left || right >= n || word[right] != p.right) continue;  // gone
      word[p.left_pos] = p.result;
      word[right] = -1;
      next[p.left_pos] = next[right];
      if (next[right] < n) prev[next[right]] = p.left_pos;
      merged_at.push_back(p.left_pos);
    }
    for (int32_t pos : merged_at) {
      add_pair(prev[pos]);
      add_pair(pos);
    }
  }
  word.erase(std::remove(word.begin(), word.end(), -1), word.end());
}

}  // namespace tg

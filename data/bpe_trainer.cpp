// bpe_trainer.cpp — see bpe_trainer.h.
#include "data/bpe_trainer.h"

#include <algorithm>
#include <queue>

#include "data/pre_split.h"

namespace tg {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct HeapEntry {
  int64_t count;
  uint64_t key;
  // Max-heap on count; among equal counts the smaller key comes out first.
  bool operator<(const HeapEntry& o) const {
    return count != o.count ? count < o.count : key > o.key;
  }
};

}  // namespace

void BpeWordCounter::add(std::string_view text) {
  thread_local std::vector<std::string_view> pieces;
  pieces.clear();
  gpt2_pre_split(text, &pieces);
  for (std::string_view p : pieces) ++counts_[std::string(p)];
  bytes_ += static_cast<int64_t>(text.size());
}

std::vector<std::pair<int32_t, int32_t>> learn_bpe_merges(
    const std::unordered_map<std::string, int64_t>& word_counts, int64_t num_merges) {
  // Words in sorted order so that nothing depends on the hash map's iteration order.
  std::vector<const std::pair<const std::string, int64_t>*> sorted;
  sorted.reserve(word_counts.size());
  for (const auto& wc : word_counts) sorted.push_back(&wc);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->first < y->first; });

  std::vector<std::vector<int32_t>> words;  // symbols of each distinct word
  std::vector<int64_t> freq;
  words.reserve(sorted.size());
  for (auto* wc : sorted) {
    if (wc->first.size() < 2) continue;  // a single byte has no pair to merge
    std::vector<int32_t> w;
    for (unsigned char c : wc->first) w.push_back(c);
    words.push_back(std::move(w));
    freq.push_back(wc->second);
  }

  std::unordered_map<uint64_t, int64_t> count;                 // pair → occurrences × freq
  std::unordered_map<uint64_t, std::vector<int32_t>> where;    // pair → words that had it
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& s = words[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t k = pair_key(s[i], s[i + 1]);
      count[k] += freq[w];
      auto& list = where[k];
      if (list.empty() || list.back() != static_cast<int32_t>(w)) list.push_back(static_cast<int32_t>(w));
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (const auto& [k, c] : count) heap.push({c, k});

  std::vector<std::pair<int32_t, int32_t>> merges;
  std::vector<uint64_t> touched;
  std::vector<int32_t> merged;
  std::vector<int64_t> visited(words.size(), -1);  // merge index that last rewrote each word
  while (static_cast<int64_t>(merges.size()) < num_merges) {
    // Pop stale entries: an entry is current only if its count still matches.
    while (!heap.empty()) {
      const HeapEntry top = heap.top();
      auto it = count.find(top.key);
      if (it != count.end() && it->second == top.count && top.count > 0) break;
      heap.pop();
    }
    if (heap.empty()) break;  // no pair left anywhere: the vocabulary is complete
    const uint64_t best = heap.top().key;
    heap.pop();
    const auto a = static_cast<int32_t>(best >> 32), b = static_cast<int32_t>(best & 0xFFFFFFFFu);
    const auto id = static_cast<int32_t>(256 + merges.size());
    merges.emplace_back(a, b);

    touched.clear();
    std::vector<int32_t> list = std::move(where[best]);
    where.erase(best);
    for (int32_t w : list) {
      if (visited[w] == static_cast<int64_t>(merges.size())) continue;  // listed twice
      visited[w] = static_cast<int64_t>(merges.size());
      auto& s = words[w];
      bool has = false;
      for (size_t i = 0; i + 1 < s.size() && !has; ++i) has = s[i] == a && s[i + 1] == b;
      if (!has) continue;  // stale: an earlier merge already consumed this occurrence
      // Take the word's pairs out, merge, put the new pairs in.
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t k = pair_key(s[i], s[i + 1]);
        count[k] -= freq[w];
        touched.push_back(k);
      }
      merged.clear();
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(id);
          i += 2;
        } else {
          merged.push_back(s[i++]);
        }
      }
      s.assign(merged.begin(), merged.end());
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t k = pair_key(s[i], s[i + 1]);
        count[k] += freq[w];
        touched.push_back(k);
        if (s[i] == id || s[i + 1] == id) {  // a pair that did not exist before in this word
          auto& l = where[k];
          if (l.empty() || l.back() != w) l.push_back(w);
        }
      }
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t k : touched) {
      auto it = count.find(k);
      if (it == count.end()) continue;
      if (it->second <= 0) count.erase(it);
      else heap.push({it->second, k});
    }
  }
  return merges;
}

}  // namespace tg

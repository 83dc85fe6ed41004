// permutation.h — a seeded pseudo-random permutation of [0, n) evaluated one index at a time.
//
// Why not shuffle a vector: with stride 1 a 1 GB corpus has ~250M examples, and an index vector
// would take 2 GB. Why not std::shuffle: its output is not specified by the standard and differs
// between standard libraries. Instead, a 4-round Feistel network over the smallest even number
// of bits covering n is a bijection on [0, 2^bits); "cycle walking" (re-applying it while the
// value is >= n) restricts it to a bijection on [0, n). O(1) memory, O(1) expected time per
// index (the domain is < 4n), and the same output on every machine: only 64-bit integer
// arithmetic (SplitMix64 as the round function).
#pragma once
#include <cstdint>

namespace tg {

// SplitMix64 finaliser: a fast, well-mixed 64-bit hash (Steele, Lea, Flood 2014).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class RandomPermutation {
 public:
  RandomPermutation(uint64_t n, uint64_t seed);
  uint64_t operator()(uint64_t i) const;  // i in [0, n)
  uint64_t size() const { return n_; }

 private:
  uint64_t feistel(uint64_t x) const;
  uint64_t n_;
  int half_bits_ = 1;
  uint64_t half_mask_ = 1;
  uint64_t keys_[4];
};

}  // namespace tg

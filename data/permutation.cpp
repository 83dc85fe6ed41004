// permutation.cpp — see permutation.h.
#include "data/permutation.h"

#include <cassert>

namespace tg {

RandomPermutation::RandomPermutation(uint64_t n, uint64_t seed) : n_(n) {
  int bits = 2;
  while (bits < 64 && (uint64_t{1} << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  uint64_t k = seed;
  for (uint64_t& key : keys_) key = k = splitmix64(k);
}

uint64_t RandomPermutation::feistel(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (uint64_t key : keys_) {
    const uint64_t next = left ^ (splitmix64(right ^ key) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t RandomPermutation::operator()(uint64_t i) const {
  assert(i < n_);
  uint64_t x = feistel(i);
  while (x >= n_) x = feistel(x);  // cycle walking: terminates since feistel is a bijection
  return x;
}

}  // namespace tg

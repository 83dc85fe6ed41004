// random.h — a counter-based random number generator.
//
// Draw i of a stream is a hash of (seed, offset + i), so the numbers do not depend on how many
// threads draw them, and the whole state is two integers that a checkpoint can store.
#pragma once
#include <cstdint>

namespace tg {

struct Rng {
  uint64_t seed = 0;
  uint64_t offset = 0;  // how many draws have been consumed

  static uint64_t mix(uint64_t x) {  // splitmix64's finaliser
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  // Draw number `i` after the current offset, without advancing.
  uint64_t bits_at(uint64_t i) const { return mix(mix(seed) ^ (offset + i)); }
  float uniform_at(uint64_t i) const {  // [0, 1) with 24 random bits
    return static_cast<float>(bits_at(i) >> 40) * (1.0f / 16777216.0f);
  }
  void advance(uint64_t n) { offset += n; }

  // The same draws, advancing past them.
  uint64_t next_bits() {
    const uint64_t bits = bits_at(0);
    advance(1);
    return bits;
  }
  float next_uniform() {
    const float u = uniform_at(0);
    advance(1);
    return u;
  }
  // Standard normal (Box-Muller) from draws 2i and 2i+1 after the offset, without advancing:
  // threads can fill a tensor in any order and get the same numbers.
  float normal_at(uint64_t i) const;
  float next_normal() {
    const float z = normal_at(0);
    advance(2);
    return z;
  }
};

}  // namespace tg

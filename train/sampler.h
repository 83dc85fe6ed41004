// sampler.h — autoregressive generation: one token at a time, each fed back in, with a KV cache.
//
// Context rules (nanoGPT's, adapted to a cache):
// - a prompt longer than block_size is cropped to its last block_size tokens;
// - when the context fills block_size, the cache is rebuilt from the last block_size/2 tokens
//   (learned positions cannot slide, so the kept tokens are re-encoded at positions 0..).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/gpt.h"

namespace tg {

struct SampleOptions {
  int64_t max_new_tokens = 200;
  float temperature = 1.0f;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = all
  float top_p = 1.0f;        // keep the smallest set whose probability reaches p; 1 = all
  uint64_t seed = 1337;      // same seed, same text
  int32_t stop_token = -1;   // stop after producing this id (<|endoftext|>); -1 = never
  int64_t vocab_limit = 0;   // sample only ids below this (the tokenizer's size, when the
                             // model's vocab_size is padded past it); 0 = the model's
};

// Picks the next token from logits [V] under the options; draws one number from rng.
int32_t sample_token(const float* logits, int64_t V, const SampleOptions& options, Rng& rng);

// Generates up to max_new_tokens after `prompt` (not empty); on_token sees each new token as
// soon as it exists. Returns the new tokens.
std::vector<int32_t> generate(GPT& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& options,
                              const std::function<void(int32_t)>& on_token = nullptr);

}  // namespace tg

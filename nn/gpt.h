// gpt.h — the GPT decoder (GPT-2 architecture; GPT-3's banded layers via GPTConfig::attention).
//
//   ids [B, T] → wte(ids) + wpe(0..T-1) → dropout → L × Block → ln_f → lm_head → logits [B, T, V]
//
// lm_head shares its weight with wte (weight tying). All parameters live in one flat buffer,
// and all their gradients in another, in named_parameters() order: the optimizer makes one
// pass over it, and data-parallel training will all-reduce it in one call.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "nn/block.h"
#include "nn/embedding.h"
#include "nn/gpt_config.h"

namespace tg {

struct GPTOutput {
  Tensor logits;  // [B, T, V]
  Tensor loss;    // [1], defined when targets were given
};

// Keys and values of every layer for the positions seen so far: generation with it costs one
// position's compute per new token instead of a pass over the whole context. It also owns the
// scratch rows the tape-free inference path works in, so a generated token allocates nothing.
struct KVCache {
  static constexpr int64_t kMaxRows = 64;  // positions computed together when encoding a prompt

  int64_t length = 0;        // positions cached (the next token goes at this position)
  std::vector<Tensor> k, v;  // per layer: [block_size, C]
  // Scratch for up to kMaxRows positions: residual stream, LayerNorm output, q|k|v, attention
  // output, MLP hidden, attention scores; and the logits of the last position.
  std::vector<float> x, normed, qkv, attended, hidden, scores;
  Tensor logits;  // [V]
};

class GPT : public Module {
 public:
  // Validates config; weights drawn as GPT-2 initialises them, from `seed`. With std::nullopt
  // they are left unset, for a checkpoint to fill (load_weights): GPT-2's 124M normals take
  // seconds that loading would throw away.
  explicit GPT(const GPTConfig& config, std::optional<uint64_t> seed = 0);

  // GPT-2 initialisation: N(0, 0.02), residual projections (c_proj.weight) N(0, 0.02/sqrt(2L)),
  // biases 0, LayerNorm (1, 0). Deterministic for a seed.
  void init_weights(uint64_t seed);

  // ids [B, T] with T <= block_size and ids < vocab_size; targets [B, T] (−1 = ignore) or null.
  // With targets and want_logits = false, the loss comes from the fused lm_head + loss op and
  // no [B, T, V] logits are made (training: 2 × 411 MB less at GPT-2's vocabulary, 2048 rows).
  GPTOutput forward(const Ids& ids, const Ids* targets = nullptr, bool want_logits = true);

  // Inference without the tape (nn/gpt_inference.cpp): encodes `tokens` at positions
  // cache.length, cache.length + 1, ..., attending to the cached positions, appends their keys
  // and values, and returns the logits [V] of the last one. The returned tensor is the cache's
  // own buffer: the next call overwrites it. Needs cache.length + tokens.size() <= block_size.
  KVCache new_kv_cache() const;
  Tensor forward_tokens(const std::vector<int32_t>& tokens, KVCache& cache) const;
  Tensor forward_tokens(const int32_t* tokens, int64_t count, KVCache& cache) const;
  Tensor forward_step(int32_t token, KVCache& cache) const;  // one token

  // Dropout on/off (train: on). Eval mode needs no gradient either: use NoGrad.
  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  Rng& dropout_rng() { return dropout_rng_; }

  const GPTConfig& config() const { return config_; }
  // nanoGPT's state_dict keys → tensors, with lm_head.weight (tied to wte) listed too.
  NamedTensors state_dict() const;

  // The flat buffers every parameter and gradient is a slice of. flat_grads() first zeroes the
  // slices of parameters that no backward pass has written since zero_grad().
  float* flat_values() { return flat_values_.get(); }
  float* flat_grads();
  int64_t flat_size() const { return flat_size_; }
  // Discards every gradient without touching its memory (torch's set_to_none): each
  // parameter's first gradient op then stores instead of adding, so no pass zeroes the whole
  // buffer and the first product into each weight's gradient reads nothing. (An op that only
  // adds, the embeddings' scatter, zeroes its own slice first.)
  void zero_grad();

  Embedding wte;  // [V, C] token embeddings, also the output projection
  Embedding wpe;  // [block_size, C] learned positions
  std::vector<std::unique_ptr<Block>> h;
  LayerNorm ln_f;

 private:
  void flatten_parameters();
  void check_kv_cache(const KVCache& cache) const;  // throws unless new_kv_cache() made it
  // Throws std::out_of_range "<what>: token id … is outside the vocabulary (vocab_size=…)".
  void check_vocabulary(const int32_t* ids, int64_t count, const char* what) const;

  GPTConfig config_;
  Ids positions_;  // 0..T-1 for the last T seen
  bool training_ = true;
  Rng dropout_rng_;
  std::shared_ptr<float> flat_values_, flat_grads_;
  int64_t flat_size_ = 0;
  std::vector<Tensor> parameters_;  // handles on the slices, for zero_grad and flat_grads
};

}  // namespace tg

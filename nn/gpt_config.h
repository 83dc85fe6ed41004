// gpt_config.h — the shape of a GPT. One source of truth: the CLI, config files, checkpoints
// and `inspect` all read and write these fields by these names (nanoGPT's).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tg {

struct GPTConfig {
  int64_t vocab_size = 50304;  // V: token ids are 0 .. V-1
  int64_t block_size = 1024;   // T max: longest context the model sees (wpe rows)
  int64_t n_layer = 12;        // L: transformer blocks
  int64_t n_head = 12;         // NH: attention heads per block (n_embd must divide by it)
  int64_t n_embd = 768;        // C: width of the residual stream
  float dropout = 0.0f;        // on embeddings, attention weights, attention and MLP outputs (nanoGPT)
  bool bias = true;            // biases in Linear and LayerNorm, as GPT-2
  // Per-layer attention pattern, repeated over the layers: "dense" everywhere (GPT-2), or
  // "dense,local" (GPT-3's alternation of dense and locally banded layers).
  std::string attention = "dense";
  int64_t attn_window = 128;   // W: a "local" layer's position t sees t-W+1 .. t

  // Throws std::invalid_argument naming the first value that cannot work.
  void validate() const;
  // The pattern word for layer i ("dense" or "local"), after validate().
  std::string layer_kind(int64_t layer) const;
  // The attention window the op gets for layer i: 0 for dense.
  int layer_window(int64_t layer) const;

  // The options that fix the weights' shapes (all but dropout), as (name, value as text) in
  // declaration order: what a checkpoint and a run's options must agree on.
  std::vector<std::pair<std::string, std::string>> shape_options() const;
  static std::vector<std::string> shape_option_names();
};

// The first of the shape options named in `keys` on which `held` (a checkpoint's config) and
// `asked` (a run's) differ, with both values as text; an empty key when they agree on all.
struct ShapeDifference {
  std::string key, held, asked;
};
ShapeDifference shape_difference(const GPTConfig& held, const GPTConfig& asked,
                                 const std::vector<std::string>& keys);

// "dense,local" → {"dense", "local"}; throws on an unknown or empty word.
std::vector<std::string> parse_attention_pattern(const std::string& pattern);

}  // namespace tg

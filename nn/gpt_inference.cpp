// GPT inference with a KV cache, off the tape.
//
// Generating a token is ~12·L·C² multiply-adds on one row: for a small model that is
// microseconds, less than the bookkeeping of building Tensors and checking shapes for the ~10
// ops of every layer. So this path runs the same forward kernels as the ops (kernels.h) on the
// cache's own scratch rows: nothing is allocated per token, and a one-row product is a
// matrix-vector read of the weights (gemm.cpp). Encoding a prompt goes up to KVCache::kMaxRows
// positions at a time, as GEMMs.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "autograd/gemm.h"
#include "autograd/kernels.h"
#include "autograd/parallel.h"
#include "nn/gpt.h"

namespace tg {
namespace {
const float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }
}  // namespace

KVCache GPT::new_kv_cache() const {
  const int64_t C = config_.n_embd, rows = KVCache::kMaxRows;
  KVCache cache;
  for (int64_t i = 0; i < config_.n_layer; i++) {
    cache.k.push_back(Tensor::zeros({config_.block_size, C}));
    cache.v.push_back(Tensor::zeros({config_.block_size, C}));
  }
  cache.x.resize(rows * C);
  cache.normed.resize(rows * C);
  cache.qkv.resize(rows * 3 * C);
  cache.attended.resize(rows * C);
  cache.hidden.resize(rows * 4 * C);
  cache.scores.resize(rows * config_.block_size);
  cache.logits = Tensor::zeros({config_.vocab_size});
  return cache;
}

Tensor GPT::forward_step(int32_t token, KVCache& cache) const {
  return forward_tokens(&token, 1, cache);
}

Tensor GPT::forward_tokens(const std::vector<int32_t>& tokens, KVCache& cache) const {
  return forward_tokens(tokens.data(), static_cast<int64_t>(tokens.size()), cache);
}

// The cache must be one this model made: its buffers are indexed without further checks.
void GPT::check_kv_cache(const KVCache& cache) const {
  const int64_t C = config_.n_embd, rows = KVCache::kMaxRows;
  bool fits = static_cast<int64_t>(cache.k.size()) == config_.n_layer &&
              cache.v.size() == cache.k.size() && cache.length >= 0 &&
              static_cast<int64_t>(cache.x.size()) == rows * C &&
              static_cast<int64_t>(cache.hidden.size()) == rows * 4 * C &&
              static_cast<int64_t>(cache.qkv.size()) == rows * 3 * C &&
              static_cast<int64_t>(cache.normed.size()) == rows * C &&
              static_cast<int64_t>(cache.attended.size()) == rows * C &&
              static_cast<int64_t>(cache.scores.size()) == rows * config_.block_size &&
              cache.logits.defined() && cache.logits.numel() == config_.vocab_size;
  for (size_t i = 0; fits && i < cache.k.size(); i++)
    fits = cache.k[i].shape() == Shape{config_.block_size, C} &&
           cache.v[i].shape() == Shape{config_.block_size, C};
  if (!fits)
    throw std::invalid_argument("KV cache: not made by this model's new_kv_cache()");
}

Tensor GPT::forward_tokens(const int32_t* tokens, int64_t count, KVCache& cache) const {
  check_kv_cache(cache);
  if (count <= 0) throw std::invalid_argument("forward_tokens: no tokens");
  check_vocabulary(tokens, count, "prompt");
  if (cache.length + count > config_.block_size)
    throw std::invalid_argument("forward_tokens: " + std::to_string(count) +
                                " more positions do not fit the cache (" +
                                std::to_string(cache.length) + " of block_size=" +
                                std::to_string(config_.block_size) + " used)");
  const int64_t C = config_.n_embd, V = config_.vocab_size, T_max = config_.block_size;
  // A small model's token runs on one thread, its products too small to split (gemm.h), and so
  // does its prompt: a team woken for the prompt's GEMMs would spin beside the busy core for a
  // while after, which made baby's generation ~40% slower on the Zen 5 VM (2 threads 16-19 ms
  // per 128 tokens, one thread 12 ms).
  SerialScope serial(std::max(4 * C * C, V * C) < kRowProductMinSplitWeights);
  float *x = cache.x.data(), *normed = cache.normed.data(), *qkv = cache.qkv.data();
  float *attended = cache.attended.data(), *hidden = cache.hidden.data();

  for (int64_t done = 0; done < count;) {
    const int64_t n = std::min<int64_t>(KVCache::kMaxRows, count - done);
    const int64_t pos0 = cache.length;
    for (int64_t r = 0; r < n; r++) {  // token embedding + position embedding
      const float* te = wte.weight.data() + int64_t{tokens[done + r]} * C;
      const float* pe = wpe.weight.data() + (pos0 + r) * C;
      for (int64_t c = 0; c < C; c++) x[r * C + c] = te[c] + pe[c];
    }
    for (size_t i = 0; i < h.size(); i++) {
      const Block& b = *h[i];
      float *K = cache.k[i].data(), *V_ = cache.v[i].data();
      layer_norm_rows(x, n, C, b.ln_1.weight.data(), data_or_null(b.ln_1.bias), LayerNorm::kEps,
                      normed, nullptr, nullptr);
      linear_rows(normed, n, C, b.attn.c_attn.weight.data(), data_or_null(b.attn.c_attn.bias),
                  3 * C, nullptr, qkv);
      for (int64_t r = 0; r < n; r++) {  // cache the new keys and values first: rows attend
        std::copy_n(qkv + r * 3 * C + C, C, K + (pos0 + r) * C);  // to each other causally
        std::copy_n(qkv + r * 3 * C + 2 * C, C, V_ + (pos0 + r) * C);
      }
      parallel_for(n, n > 1 && n * (pos0 + n) * C > (1 << 16), [&](int64_t r) {
        const int64_t last = pos0 + r;
        const int64_t first = b.attn.window > 0 ? std::max<int64_t>(0, last - b.attn.window + 1) : 0;
        attend_cached(qkv + r * 3 * C, K, V_, C, b.attn.n_head, first, last, attended + r * C,
                      cache.scores.data() + r * T_max);
      });
      linear_rows(attended, n, C, b.attn.c_proj.weight.data(), data_or_null(b.attn.c_proj.bias),
                  C, x, x);
      layer_norm_rows(x, n, C, b.ln_2.weight.data(), data_or_null(b.ln_2.bias), LayerNorm::kEps,
                      normed, nullptr, nullptr);
      linear_rows(normed, n, C, b.mlp.c_fc.weight.data(), data_or_null(b.mlp.c_fc.bias), 4 * C,
                  nullptr, hidden);
      gelu_values(hidden, n * 4 * C, hidden);
      linear_rows(hidden, n, 4 * C, b.mlp.c_proj.weight.data(), data_or_null(b.mlp.c_proj.bias),
                  C, x, x);
    }
    cache.length += n;
    done += n;
    if (done == count) {  // logits of the last position only
      const float* last = x + (n - 1) * C;
      layer_norm_rows(last, 1, C, ln_f.weight.data(), data_or_null(ln_f.bias), LayerNorm::kEps,
                      normed, nullptr, nullptr);
      linear_rows(normed, 1, C, wte.weight.data(), nullptr, V, nullptr, cache.logits.data());
    }
  }
  return cache.logits;
}

}  // namespace tg

// causal_self_attention.h — multi-head causal self-attention, dense or locally banded.
// c_attn projects x to q, k, v side by side ([B, T, 3C]); the fused op attends per head and
// merges heads; c_proj mixes them back into the residual stream.
#pragma once
#include "nn/gpt_config.h"
#include "nn/linear.h"

namespace tg {

class CausalSelfAttention : public Module {
 public:
  CausalSelfAttention(const GPTConfig& config, int64_t layer)
      : c_attn(config.n_embd, 3 * config.n_embd, config.bias),
        c_proj(config.n_embd, config.n_embd, config.bias),
        n_head(static_cast<int>(config.n_head)),
        window(config.layer_window(layer)) {
    register_module("c_attn", &c_attn);
    register_module("c_proj", &c_proj);
  }
  // x [B, T, C] → [B, T, C]; p = dropout on the attention weights (nanoGPT's attn_dropout)
  Tensor forward(const Tensor& x, float p, Rng& rng) const {
    return c_proj.forward(causal_attention(c_attn.forward(x), n_head, window, p, &rng));
  }
  // residual + forward(x) without dropout, with the add fused into c_proj
  Tensor forward_plus(const Tensor& x, const Tensor& residual) const {
    return c_proj.forward_plus(causal_attention(c_attn.forward(x), n_head, window), residual);
  }

  Linear c_attn;  // C → 3C
  Linear c_proj;  // C → C, a residual projection (scaled init)
  int n_head;
  int window;     // 0 = dense
};

}  // namespace tg

// block.h — one transformer block, pre-LN as GPT-2:
//   x = x + dropout(attn(ln_1(x)));  x = x + dropout(mlp(ln_2(x)))
// (and attn drops its attention weights with the same p, as nanoGPT's attn_dropout)
#pragma once
#include "nn/causal_self_attention.h"
#include "nn/layer_norm.h"
#include "nn/mlp.h"

namespace tg {

class Block : public Module {
 public:
  Block(const GPTConfig& config, int64_t layer)
      : ln_1(config.n_embd, config.bias), attn(config, layer), ln_2(config.n_embd, config.bias),
        mlp(config) {
    register_module("ln_1", &ln_1);
    register_module("attn", &attn);
    register_module("ln_2", &ln_2);
    register_module("mlp", &mlp);
  }
  // x [B, T, C] → [B, T, C]; p = dropout probability (0 in eval), rng its random stream.
  Tensor forward(const Tensor& x, float p, Rng& rng) const {
    if (p == 0.0f) {  // no dropout between projection and residual: fuse the adds
      Tensor h = attn.forward_plus(ln_1.forward(x), x);
      return mlp.forward_plus(ln_2.forward(h), h);
    }
    Tensor h = add(x, dropout(attn.forward(ln_1.forward(x), p, rng), p, rng));
    return add(h, dropout(mlp.forward(ln_2.forward(h)), p, rng));
  }

  LayerNorm ln_1;
  CausalSelfAttention attn;
  LayerNorm ln_2;
  MLP mlp;
};

}  // namespace tg

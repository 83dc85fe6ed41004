// mlp.h — the position-wise feed-forward net: C → 4C, GELU (tanh), 4C → C.
#pragma once
#include "nn/gpt_config.h"
#include "nn/linear.h"

namespace tg {

class MLP : public Module {
 public:
  explicit MLP(const GPTConfig& config)
      : c_fc(config.n_embd, 4 * config.n_embd, config.bias),
        c_proj(4 * config.n_embd, config.n_embd, config.bias) {
    register_module("c_fc", &c_fc);
    register_module("c_proj", &c_proj);
  }
  Tensor forward(const Tensor& x) const { return c_proj.forward(gelu(c_fc.forward(x))); }
  // residual + forward(x), with the add fused into c_proj
  Tensor forward_plus(const Tensor& x, const Tensor& residual) const {
    return c_proj.forward_plus(gelu(c_fc.forward(x)), residual);
  }

  Linear c_fc;    // C → 4C
  Linear c_proj;  // 4C → C, a residual projection (scaled init)
};

}  // namespace tg

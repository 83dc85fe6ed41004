// layer_norm.h — normalise each row over C, then scale and shift (torch.nn.LayerNorm, eps 1e-5).
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"

namespace tg {

class LayerNorm : public Module {
 public:
  static constexpr float kEps = 1e-5f;  // torch's default; generation's tape-free path uses it too

  LayerNorm(int64_t dim, bool with_bias) {
    weight = Tensor::full({dim}, 1.0f, true);
    register_parameter("weight", weight);
    if (with_bias) {
      bias = Tensor::zeros({dim}, true);
      register_parameter("bias", bias);
    }
  }
  Tensor forward(const Tensor& x) const { return layer_norm(x, weight, bias, kEps); }

  Tensor weight;  // [C], starts at 1
  Tensor bias;    // [C], starts at 0; undefined without bias
};

}  // namespace tg

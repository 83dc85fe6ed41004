// linear.h — y = x·W^T + b (torch.nn.Linear; W is [out, in]).
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"

namespace tg {

class Linear : public Module {
 public:
  // Values start at zero; GPT::init_weights draws the real initial values.
  Linear(int64_t in_features, int64_t out_features, bool with_bias) {
    weight = Tensor::zeros({out_features, in_features}, true);
    register_parameter("weight", weight);
    if (with_bias) {
      bias = Tensor::zeros({out_features}, true);
      register_parameter("bias", bias);
    }
  }
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }  // [..., in] → [..., out]
  // residual + forward(x), fused (residual [..., out])
  Tensor forward_plus(const Tensor& x, const Tensor& residual) const {
    return linear_residual(x, weight, bias, residual);
  }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias
};

}  // namespace tg

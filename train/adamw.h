// adamw.h — AdamW exactly as torch.optim.AdamW, over the model's flat parameter buffer.
//
// Per element, at step t (from 1), g the gradient times the clipping coefficient:
//   p -= lr·wd·p                          (decoupled weight decay, only on "decay" params)
//   m  = β1·m + (1−β1)·g,   v = β2·v + (1−β2)·g²
//   p -= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
// Decay goes on parameters with ≥ 2 dims (matmul weights, embeddings); biases and LayerNorm
// weights get none — nanoGPT's grouping.
#pragma once
#include <vector>

#include "nn/gpt.h"
#include "train/checkpoint.h"

namespace tg {

struct AdamWConfig {
  float beta1 = 0.9f;
  float beta2 = 0.95f;          // nanoGPT's choice for GPT training (torch default 0.999)
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

class AdamW {
 public:
  AdamW(GPT& model, const AdamWConfig& config);
  // One update from the model's gradients, each taken times grad_scale: clipping
  // (clip_coefficient) is folded into this pass rather than done by a pass of its own that
  // rewrites every gradient, 1 GB of memory traffic per step for GPT-2. g·s rounds as torch's
  // in-place g *= s does, so the update is the same; the stored gradients stay unscaled.
  void step(float lr, float grad_scale = 1.0f);
  OptimizerState& state() { return state_; }  // moments + step, for checkpoints
  const AdamWConfig& config() const { return config_; }

 private:
  struct Range {
    int64_t begin, end;
    bool decay;
  };
  GPT& model_;
  AdamWConfig config_;
  std::vector<Range> ranges_;
  OptimizerState state_;
};

// The L2 norm of all gradients (double accumulation), as torch's clip_grad_norm_ returns it.
float grad_norm(GPT& model);
// What torch's clip_grad_norm_ multiplies the gradients by, min(1, max_norm / (norm + 1e-6)),
// rounded as torch rounds it; 1 when max_norm <= 0 (no clipping).
float clip_coefficient(float norm, float max_norm);

}  // namespace tg

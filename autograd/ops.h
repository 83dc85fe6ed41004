// ops.h — every differentiable op. Each op's forward and backward live side by side in one
// autograd/op_<name>.cpp file. An op computes its output and, when a gradient is needed,
// records on the tape a closure that adds into its inputs' gradients.
//
// Big fused ops (linear, layer_norm, gelu, attention, cross-entropy) keep the tape at tens of
// records per layer: no per-scalar graph.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace tg {

// Integer token ids with a shape ([B, T] for a batch). -1 marks an ignored target.
struct Ids {
  Shape shape;
  std::vector<int32_t> data;
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

// ---- products -------------------------------------------------------------------------------
// a [..., M, K] (or [..., K, M] with trans_a) times b [..., K, N] (or [..., N, K] with trans_b).
// Leading (batch) dims must match, or b may be 2-D and is then shared by every batch entry.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// y [..., out] = x [..., in] · weight [out, in]^T + bias [out]  (bias may be undefined).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);
// residual [..., out] + linear(x, weight, bias) in one pass: a transformer block's
// "x + c_proj(...)" without a separate add over the residual stream.
Tensor linear_residual(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& residual);

// ---- element-wise ----------------------------------------------------------------------------
// a + b where b has a's shape or is a trailing part of it (a bias broadcast over rows).
Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);  // same shapes
Tensor scale(const Tensor& a, float s);
Tensor gelu(const Tensor& x);  // tanh approximation, as GPT-2
Tensor sum(const Tensor& x);   // all elements → shape [1]
Tensor dropout(const Tensor& x, float p, Rng& rng);  // identity when p == 0

// ---- normalisation and probabilities ---------------------------------------------------------
// Over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (bias may be undefined).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
Tensor softmax(const Tensor& x);  // over the last dim

// ---- lookup and loss -------------------------------------------------------------------------
// weight [V, C] rows picked by ids [...] → [..., C].
Tensor embedding(const Ids& ids, const Tensor& weight);
// Mean over targets != ignore_index of -log softmax(logits)[target]. logits [..., V],
// targets with logits' leading shape. Returns shape [1].
Tensor cross_entropy(const Tensor& logits, const Ids& targets, int32_t ignore_index = -1);

// cross_entropy(linear(x, weight, no bias), targets) without keeping the logits: the output
// projection and the loss fused over row chunks (x [..., C], weight [V, C] → loss [1]).
Tensor lm_head_cross_entropy(const Tensor& x, const Tensor& weight, const Ids& targets,
                             int32_t ignore_index = -1);

// ---- attention -------------------------------------------------------------------------------
// Causal self-attention of all heads in one op. qkv [B, T, 3C] holds q, k, v side by side (as
// nanoGPT's c_attn output); returns y [B, T, C] with the heads already merged.
// window W: position t attends to max(0, t-W+1) .. t; W <= 0 or W >= T is dense causal.
// Only the band is computed, so a local layer costs O(T·W), not O(T²).
// dropout p > 0 drops attention weights as nanoGPT's attn_dropout: Y = (P ⊙ mask/(1−p))·V, the
// mask drawn from rng (which advances past B·NH·T·T draws).
// Backward needs the probabilities P: kept from forward when they are no bigger than qkv
// (automatic), else recomputed from each row's saved log-sum-exp. Tests force either path.
enum class SavedProbabilities { automatic, keep, recompute };
Tensor causal_attention(const Tensor& qkv, int n_head, int window = 0, float dropout = 0.0f,
                        Rng* rng = nullptr, SavedProbabilities saved = SavedProbabilities::automatic);

// ---- shapes ----------------------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);   // same element count, shares nothing
Tensor split_heads(const Tensor& x, int n_head);       // [B, T, C] → [B, NH, T, HS]
Tensor merge_heads(const Tensor& x);                   // [B, NH, T, HS] → [B, T, C]

}  // namespace tg

// kernels.h — the forward arithmetic of a few ops on plain row-major arrays.
//
// The differentiable ops (ops.h) call these for their forward pass, and so does the tape-free
// inference path (GPT::forward_tokens): one implementation of each formula, and generation pays
// for no tensors, tape or shape checks per token. (Results agree to rounding, not bit for bit:
// a one-row product sums in another order, and cached attention is its own kernel.)
#pragma once
#include <cstdint>

namespace tg {

// y [rows, C] = LayerNorm(x) · weight + bias (bias may be null). mean / rstd ([rows]) receive
// each row's statistics when not null (backward needs them).
void layer_norm_rows(const float* x, int64_t rows, int64_t C, const float* weight,
                     const float* bias, float eps, float* y, float* mean, float* rstd);

// y [n] = gelu(x) (tanh approximation); y may be x.
void gelu_values(const float* x, int64_t n, float* y);

// y [rows, out] = x [rows, in] · weight [out, in]^T + bias [out] + residual [rows, out].
// bias and residual may be null; residual may be y itself (an in-place residual add), x may not.
void linear_rows(const float* x, int64_t rows, int64_t in, const float* weight,
                 const float* bias, int64_t out, const float* residual, float* y);

// One query row of causal attention against cached keys and values, every head:
// q [C] (heads side by side) attends to rows first..last of K and V ([*, C] each);
// y [C] receives the heads' outputs merged. scores needs last − first + 1 floats of scratch.
void attend_cached(const float* q, const float* K, const float* V, int64_t C, int n_head,
                   int64_t first, int64_t last, float* y, float* scores);

}  // namespace tg

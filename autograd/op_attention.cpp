// causal_attention: all heads of causal self-attention as one op, dense or locally banded.
//
// Per batch entry b and head h (HS = C/NH, scale = 1/sqrt(HS)):
//   S = Q·K^T·scale,  S[t, j] = −inf unless t−W+1 ≤ j ≤ t,  P = softmax_rows(S),  Y = P·V
// Backward:
//   dP = dY·V^T,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//   dQ += dS·K·scale,  dK += dS^T·Q·scale,  dV += P^T·dY
//
// Queries go in blocks of up to 64 rows (W/4 for a narrow band, so the wasted triangle at the
// band's edges stays small). A block [q0, q1) only needs keys
// [max(0, q0−W+1), q1): dense attention (W = T) touches the lower triangle plus one diagonal
// block, a local layer a band of width W + block. So time and the saved P grow as
// O(T·W) per head, not O(T²). Q, K, V are read in place from the [B, T, 3C] qkv buffer
// (row stride 3C) and Y is written straight into [B, T, C]: no head split/merge copies.
// Heads run in parallel (OpenMP); each head's GEMMs then run single-threaded.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <omp.h>

#include "autograd/gemm.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

namespace tg {
namespace {

constexpr int64_t kMaxQueryBlock = 64;

// Where each query block's probabilities live inside one head's slice of P.
struct BandLayout {
  int64_t T = 0, W = 0;
  std::vector<int64_t> offset;  // per block, into the head's slice
  int64_t per_head = 0;         // floats of P per (b, h)
  int64_t max_span = 0;

  int64_t block = kMaxQueryBlock;  // query rows per block

  BandLayout(int64_t T_, int64_t W_) : T(T_), W(W_) {
    if (W < T) block = std::clamp<int64_t>(W / 4, 16, kMaxQueryBlock);
    for (int64_t q0 = 0; q0 < T; q0 += block) {
      offset.push_back(per_head);
      per_head += rows(q0) * span(q0);
      max_span = std::max(max_span, span(q0));
    }
  }
  int64_t rows(int64_t q0) const { return std::min(block, T - q0); }
  int64_t first_key(int64_t q0) const { return std::max<int64_t>(0, q0 - W + 1); }
  int64_t span(int64_t q0) const { return q0 + rows(q0) - first_key(q0); }
};

}  // namespace

Tensor causal_attention(const Tensor& qkv, int n_head, int window) {
  ProfileScope forward_scope("attention.forward");
  if (qkv.ndim() != 3 || qkv.size(2) % 3 != 0)
    throw std::invalid_argument("causal_attention: qkv must be [B, T, 3C], got " +
                                shape_str(qkv.shape()));
  const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, NH = n_head;
  if (NH <= 0 || C % NH != 0)
    throw std::invalid_argument("causal_attention: C=" + std::to_string(C) +
                                " is not divisible by n_head=" + std::to_string(n_head));
  const int64_t HS = C / NH, ld = 3 * C;
  const int64_t W = (window <= 0 || window > T) ? T : window;
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  const BandLayout band(T, W);

  Tensor y = Tensor::empty({B, T, C}, needs_grad({&qkv}));
  Tensor probs = Tensor::empty({B * NH * band.per_head});  // P, block by block
  const float* QKV = qkv.data();
  float *Y = y.data(), *P = probs.data();
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < NH; h++) {
      float* p_head = P + (b * NH + h) * band.per_head;
      for (size_t blk = 0; blk < band.offset.size(); blk++) {
        const int64_t q0 = blk * band.block, nq = band.rows(q0);
        const int64_t k0 = band.first_key(q0), span = band.span(q0);
        const float* q = QKV + (b * T + q0) * ld + h * HS;
        const float* k = QKV + (b * T + k0) * ld + C + h * HS;
        const float* v = QKV + (b * T + k0) * ld + 2 * C + h * HS;
        float* p = p_head + band.offset[blk];  // [nq, span]
        gemm(false, true, nq, span, HS, scale, q, ld, k, ld, 0.0f, p, span);
        for (int64_t i = 0; i < nq; i++) {
          const int64_t t = q0 + i;
          const int64_t lo = std::max<int64_t>(0, t - W + 1) - k0, hi = t - k0;  // valid cols
          float* row = p + i * span;
          for (int64_t j = 0; j < lo; j++) row[j] = kMinusInf;
          for (int64_t j = hi + 1; j < span; j++) row[j] = kMinusInf;
          float mx = row[lo];
          for (int64_t j = lo + 1; j <= hi; j++) mx = std::max(mx, row[j]);
          float total = 0.0f;
          for (int64_t j = lo; j <= hi; j++) total += (row[j] = std::exp(row[j] - mx));
          const float inv = 1.0f / total;
          for (int64_t j = 0; j < span; j++) row[j] = (j >= lo && j <= hi) ? row[j] * inv : 0.0f;
        }
        gemm(false, false, nq, HS, span, 1.0f, p, span, v, ld, 0.0f,
             Y + (b * T + q0) * C + h * HS, C);
      }
    }

  if (y.requires_grad()) {
    tape().record([qkv, y, probs, B, T, C, NH, HS, ld, scale, band]() {
      ProfileScope backward_scope("attention.backward");
      const float *QKV = qkv.data(), *P = probs.data(), *dY = y.grad();
      float* dQKV = qkv.grad();  // allocated here, before the threads start
      Tensor scratch = Tensor::empty({omp_get_max_threads() * band.block * band.max_span});
#pragma omp parallel for collapse(2) schedule(static)
      for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
          float* dp = scratch.data() + omp_get_thread_num() * band.block * band.max_span;
          const float* p_head = P + (b * NH + h) * band.per_head;
          for (size_t blk = 0; blk < band.offset.size(); blk++) {
            const int64_t q0 = blk * band.block, nq = band.rows(q0);
            const int64_t k0 = band.first_key(q0), span = band.span(q0);
            const int64_t q_at = (b * T + q0) * ld + h * HS, k_at = (b * T + k0) * ld + C + h * HS;
            const int64_t v_at = k_at + C;
            const float* p = p_head + band.offset[blk];
            const float* dy = dY + (b * T + q0) * C + h * HS;
            gemm(false, true, nq, span, HS, 1.0f, dy, C, QKV + v_at, ld, 0.0f, dp, span);
            for (int64_t i = 0; i < nq; i++) {  // dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place
              float* dpr = dp + i * span;
              const float* pr = p + i * span;
              float dot = 0.0f;
              for (int64_t j = 0; j < span; j++) dot += dpr[j] * pr[j];
              for (int64_t j = 0; j < span; j++) dpr[j] = pr[j] * (dpr[j] - dot);
            }
            gemm(false, false, nq, HS, span, scale, dp, span, QKV + k_at, ld, 1.0f,
                 dQKV + q_at, ld);
            gemm(true, false, span, HS, nq, scale, dp, span, QKV + q_at, ld, 1.0f, dQKV + k_at,
                 ld);
            gemm(true, false, span, HS, nq, 1.0f, p, span, dy, C, 1.0f, dQKV + v_at, ld);
          }
        }
    });
  }
  return y;
}

}  // namespace tg

namespace tg {

Tensor attention_step(const Tensor& qkv_row, const Tensor& k_cache, const Tensor& v_cache,
                      int64_t pos, int n_head, int window) {
  const int64_t C = k_cache.size(1), NH = n_head, HS = C / NH;
  if (qkv_row.numel() != 3 * C || pos < 0 || pos >= k_cache.size(0))
    throw std::invalid_argument("attention_step: qkv " + shape_str(qkv_row.shape()) +
                                " / position " + std::to_string(pos) + " do not fit cache " +
                                shape_str(k_cache.shape()));
  const float* qkv = qkv_row.data();
  float *K = k_cache.data(), *V = v_cache.data();
  std::copy_n(qkv + C, C, K + pos * C);
  std::copy_n(qkv + 2 * C, C, V + pos * C);
  const int64_t first = (window > 0) ? std::max<int64_t>(0, pos - window + 1) : 0;
  const int64_t n = pos - first + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  Tensor y = Tensor::zeros({1, C});
  float* Y = y.data();
  std::vector<float> p(n);
  for (int64_t h = 0; h < NH; h++) {
    const float* q = qkv + h * HS;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; j++) {
      const float* k = K + (first + j) * C + h * HS;
      float d = 0.0f;
      for (int64_t i = 0; i < HS; i++) d += q[i] * k[i];
      p[j] = d * scale;
      mx = std::max(mx, p[j]);
    }
    float total = 0.0f;
    for (int64_t j = 0; j < n; j++) total += (p[j] = std::exp(p[j] - mx));
    for (int64_t j = 0; j < n; j++) {
      const float w = p[j] / total;
      const float* v = V + (first + j) * C + h * HS;
      for (int64_t i = 0; i < HS; i++) Y[h * HS + i] += w * v[i];
    }
  }
  return y;
}

}  // namespace tg

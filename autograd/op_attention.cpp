// causal_attention: all heads of causal self-attention as one op, dense or locally banded.
//
// Per batch entry b and head h (HS = C/NH, scale = 1/sqrt(HS)):
//   S = Q·K^T·scale,  S[t, j] = −inf unless t−W+1 ≤ j ≤ t,  P = softmax_rows(S),  Y = P·V
// Backward:
//   dP = dY·V^T,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//   dQ += dS·K·scale,  dK += dS^T·Q·scale,  dV += P^T·dY
// With attention dropout (nanoGPT's attn_dropout), D = mask/(1−p) and Y = (P ⊙ D)·V:
//   dP = (dY·V^T) ⊙ D,  dV += (P ⊙ D)^T·dY, the rest as above. The mask is not kept: its entry
//   (b, h, t, j) is draw ((b·NH + h)·T + t)·T + j of the stream, which backward draws again,
//   the same at any blocking or thread count.
//
// Queries go in blocks of up to 64 rows (32 for a dense context of T ≤ 64, W/4 for a narrow
// band, so the wasted triangles at the diagonal and the band's edges stay small). A block
// [q0, q1) only needs keys [max(0, q0−W+1), q1): dense attention (W = T) touches the lower
// triangle plus one diagonal block, a local layer a band of width W + block: time grows as
// O(T·W) per head, not O(T²).
// Backward needs P. Forward keeps it when it is no bigger than the qkv input (short contexts,
// narrow bands: the products it saves are a fifth of backward's); otherwise it keeps only each
// row's log-sum-exp and backward recomputes P block by block (one more Q·Kᵀ product), so the
// saved memory is O(T) per head and a long dense context never holds its T² probabilities.
// For a long context each thread copies its head of the [B, T, 3C] qkv buffer into contiguous
// [T, HS] arrays; for T ≤ 64 (when the last query block needs every key: dense, or a band at
// least as wide as that block's reach) the GEMMs read the head's slices in place. Y is written straight
// into [B, T, C] (heads merged). Heads run in parallel (OpenMP); each head's GEMMs then run
// single-threaded.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/gemm.h"
#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

namespace tg {
namespace {

constexpr int64_t kMaxQueryBlock = 64;
// A dense context this short is cut into blocks of 32 queries (less of the masked triangle is
// computed); a context this short is read in place (see causal_attention).
constexpr int64_t kShortContext = 64, kShortContextBlock = 32;

// The query blocks and the key range each one needs.
struct BandLayout {
  int64_t T = 0, W = 0;
  int64_t block = kMaxQueryBlock;  // query rows per block
  int64_t max_span = 0;

  BandLayout(int64_t T_, int64_t W_) : T(T_), W(W_) {
    if (W < T)
      block = std::clamp<int64_t>(W / 4, 16, kMaxQueryBlock);
    else if (T <= kShortContext)
      block = kShortContextBlock;
    for (int64_t q0 = 0; q0 < T; q0 += block) max_span = std::max(max_span, span(q0));
  }
  int64_t rows(int64_t q0) const { return std::min(block, T - q0); }
  int64_t first_key(int64_t q0) const { return std::max<int64_t>(0, q0 - W + 1); }
  int64_t span(int64_t q0) const { return q0 + rows(q0) - first_key(q0); }
  int64_t last_block() const { return (T - 1) / block * block; }
  // Floats of one head's P, its blocks stored one after another ([rows, span] each).
  int64_t area() const {
    int64_t total = 0;
    for (int64_t q0 = 0; q0 < T; q0 += block) total += rows(q0) * span(q0);
    return total;
  }
};

// Whether forward keeps P for backward (see the top of the file).
bool keeps_probabilities(const BandLayout& band, int64_t NH, int64_t C, SavedProbabilities mode) {
  if (mode != SavedProbabilities::automatic) return mode == SavedProbabilities::keep;
  return NH * band.area() <= 3 * band.T * C;
}

// The scratch slots of the threads that run the heads: parallel_for spreads them over
// OpenMP's threads, or, called inside a parallel region, runs them all on this one thread.
struct HeadThreads {
  bool own_team = !omp_in_parallel();
  int count = own_team ? omp_get_max_threads() : 1;
  int slot() const { return own_team ? omp_get_thread_num() : 0; }
};

// One head's q, k and v rows: ld floats apart, either the head's slices of the [B, T, 3C]
// input (ld = 3C) or contiguous copies of them (ld = HS).
struct HeadRows {
  const float *q, *k, *v;
  int64_t ld;
};

// P for one query block, [nq, span]: scaled scores q·kᵀ, then the softmax of each row's band,
// 0 elsewhere. Forward passes lse_out, where each row's log-sum-exp is written; backward, when
// P was not kept, passes those values as lse_in and gets P again as exp(score − lse).
void block_probabilities(const BandLayout& band, int64_t q0, const HeadRows& head, int64_t HS,
                         float scale, float* p, float* lse_out, const float* lse_in) {
  const int64_t nq = band.rows(q0), k0 = band.first_key(q0), span = band.span(q0);
  gemm(false, true, nq, span, HS, scale, head.q + q0 * head.ld, head.ld, head.k + k0 * head.ld,
       head.ld, 0.0f, p, span);
  for (int64_t i = 0; i < nq; i++) {
    const int64_t t = q0 + i;
    const int64_t lo = std::max<int64_t>(0, t - band.W + 1) - k0, hi = t - k0;  // valid cols
    const int64_t n = hi - lo + 1;
    // Eigen takes a map's exp in whole packets from its first 64-byte boundary on, and the
    // floats before it and after the last whole packet one libm call at a time (0.8% of a small
    // model's step samples). A dense context's rows start on a boundary (P's blocks are whole
    // packets wide), so the exp runs over whole packets, where the row has room: the extra
    // columns are set to −inf, come out (close to) 0, and are zeroed below.
    const int64_t padded = std::min((n + 15) / 16 * 16, span - lo);
    Eigen::Map<Eigen::ArrayXf> row(p + i * span, span);
    Eigen::Map<Eigen::ArrayXf> valid(p + i * span + lo, n), wide(p + i * span + lo, padded);
    wide.tail(padded - n).setConstant(-std::numeric_limits<float>::infinity());
    if (lse_out) {  // one exp per score: shift by the max, then normalise by the sum
      const float mx = valid.maxCoeff();
      wide = (wide - mx).exp();
      const float sum = valid.sum();
      valid *= 1.0f / sum;
      lse_out[t] = mx + std::log(sum);
    } else {
      wide = (wide - lse_in[t]).exp();
    }
    row.head(lo).setZero();
    row.tail(span - hi - 1).setZero();
  }
}

// Attention dropout on one block of P (or of dP): dst = src ⊙ D over each row's band, copied
// elsewhere (P is 0 there, and dS = P ⊙ … ignores dP there).
struct AttentionDropout {
  float p = 0.0f;
  Rng stream;
  int64_t NH = 0;

  bool on() const { return p > 0.0f; }
  void apply(const BandLayout& band, int64_t b, int64_t h, int64_t q0, const float* src,
             float* dst) const {
    const int64_t nq = band.rows(q0), k0 = band.first_key(q0), span = band.span(q0);
    const float keep_scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < nq; i++) {
      const int64_t t = q0 + i;
      const int64_t lo = std::max<int64_t>(0, t - band.W + 1) - k0, hi = t - k0;
      const uint64_t first_draw = static_cast<uint64_t>(((b * NH + h) * band.T + t) * band.T + k0);
      const float* s = src + i * span;
      float* d = dst + i * span;
      if (d != s) {
        for (int64_t c = 0; c < lo; c++) d[c] = s[c];
        for (int64_t c = hi + 1; c < span; c++) d[c] = s[c];
      }
      for (int64_t c = lo; c <= hi; c++)
        d[c] = stream.uniform_at(first_draw + static_cast<uint64_t>(c)) < p ? 0.0f : s[c] * keep_scale;
    }
  }
};

// A head's slice of a row is a few dozen floats: loops the compiler vectorises (it may, as
// the two never overlap) beat a memmove call, and unvectorised they were a fifth of backward.
void copy_floats(const float* __restrict src, int64_t n, float* __restrict dst) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}
void add_floats(const float* __restrict src, int64_t n, float* __restrict dst) {
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}
void put_floats(const float* src, int64_t n, float* dst, bool add) {
  if (add)
    add_floats(src, n, dst);
  else
    copy_floats(src, n, dst);
}

// One head's q, k, v rows (row stride ld, k at +C, v at +2C) → three contiguous [T, HS] arrays.
void pack_head(const float* qkv, int64_t ld, int64_t T, int64_t HS, int64_t C, float* q, float* k,
               float* v) {
  for (int64_t t = 0; t < T; t++) {
    const float* row = qkv + t * ld;
    copy_floats(row, HS, q + t * HS);
    copy_floats(row + C, HS, k + t * HS);
    copy_floats(row + 2 * C, HS, v + t * HS);
  }
}

// The reverse for gradients: contiguous dq, dk, dv [T, HS] into the strided rows, added to
// what they hold, or (add false) written over it.
void unpack_head(const float* dq, const float* dk, const float* dv, int64_t T, int64_t HS,
                 int64_t C, float* dqkv, int64_t ld, bool add) {
  for (int64_t t = 0; t < T; t++) {
    float* row = dqkv + t * ld;
    put_floats(dq + t * HS, HS, row, add);
    put_floats(dk + t * HS, HS, row + C, add);
    put_floats(dv + t * HS, HS, row + 2 * C, add);
  }
}

}  // namespace

Tensor causal_attention(const Tensor& qkv, int n_head, int window, float dropout, Rng* rng,
                        SavedProbabilities saved) {
  ProfileScope forward_scope("attention.forward");
  if (!(dropout >= 0.0f && dropout < 1.0f))
    throw std::invalid_argument("causal_attention: dropout must be in [0, 1), got " + std::to_string(dropout));
  if (dropout > 0.0f && !rng) throw std::invalid_argument("causal_attention: dropout needs a random stream");
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
  const int64_t area = band.area();
  const AttentionDropout drop{dropout, rng ? *rng : Rng{}, NH};
  if (drop.on()) rng->advance(static_cast<uint64_t>(B * NH * T * T));

  Tensor y = Tensor::empty({B, T, C}, needs_grad({&qkv}));
  const bool keep_p = y.requires_grad() && keeps_probabilities(band, NH, C, saved);
  Tensor probs = keep_p ? Tensor::empty({B * NH * area}) : Tensor();
  Tensor lse = Tensor::empty({B * NH * T});  // per row: all backward needs to rebuild P
  const float* QKV = qkv.data();
  float *Y = y.data(), *LSE = lse.data();

  // For a long context, each thread copies its head's q, k, v out of the [B, T, 3C] rows into
  // contiguous [T, HS] arrays first: reading a 64-float slice of every 4.6 KB row again for each
  // block cost TLB and cache misses that grew faster than T (a banded layer's time was
  // superlinear in T). For T ≤ 64 the copy is only an extra pass: the GEMMs read in place, as
  // long as the last block needs every key (backward's order relies on it).
  const bool in_place = T <= kShortContext && band.first_key(band.last_block()) == 0;
  const HeadThreads heads;
  const int64_t block_floats = band.block * band.max_span;
  // (+ a block of P ⊙ D with dropout, at the end)
  const int64_t per_thread = (in_place ? 0 : 3 * T * HS) + (keep_p ? 0 : block_floats) +
                             (drop.on() ? block_floats : 0);
  Tensor scratch = Tensor::empty({heads.count * per_thread});

  parallel_for(B * NH, true, [&](int64_t bh) {
    const int64_t b = bh / NH, h = bh % NH;
    float* own = scratch.data() + heads.slot() * per_thread;  // this thread's scratch
    float* dropped = drop.on() ? own + per_thread - block_floats : nullptr;  // P ⊙ D
    const float* slices = QKV + b * T * ld + h * HS;          // row t: q at + t·ld, k + C, v + 2C
    HeadRows head{slices, slices + C, slices + 2 * C, ld};
    if (!in_place) {
      float *q = own, *k = q + T * HS, *v = k + T * HS;
      pack_head(slices, ld, T, HS, C, q, k, v);
      head = HeadRows{q, k, v, HS};
      own = v + T * HS;
    }
    float* lse_h = LSE + (b * NH + h) * T;
    float* kept = keep_p ? probs.data() + bh * area : nullptr;  // next block's P
    for (int64_t q0 = 0; q0 < T; q0 += band.block) {
      const int64_t nq = band.rows(q0), span = band.span(q0);
      float* p = keep_p ? kept : own;
      block_probabilities(band, q0, head, HS, scale, p, /*lse_out=*/lse_h, nullptr);
      if (drop.on()) drop.apply(band, b, h, q0, p, dropped);
      gemm(false, false, nq, HS, span, 1.0f, drop.on() ? dropped : p, span,
           head.v + band.first_key(q0) * head.ld, head.ld, 0.0f, Y + (b * T + q0) * C + h * HS, C);
      if (keep_p) kept += nq * span;
    }
  });

  if (y.requires_grad()) {
    tape().record([qkv, y, lse, probs, keep_p, in_place, B, T, C, NH, HS, ld, scale, band, area,
                   drop]() {
      ProfileScope backward_scope("attention.backward");
      const float *QKV = qkv.data(), *LSE = lse.data(), *dY = y.grad();
      bool fresh = false;  // a new gradient: the heads' slices, disjoint, are written, not added
      float* dQKV = qkv.grad_for_overwrite(&fresh);  // allocated here, before the threads start
      const HeadThreads heads;
      // Per thread: dP of one block, P's block when it was not kept, and, unless the GEMMs
      // work in place, copies of q, k, v, dy and the sums dq, dk, dv ([T, HS] each).
      const int64_t block_floats = band.block * band.max_span;
      const int64_t per_thread = (in_place ? 0 : 7 * T * HS) + (keep_p ? 1 : 2) * block_floats +
                                 (drop.on() ? block_floats : 0);  // (P ⊙ D last)
      Tensor scratch = Tensor::empty({heads.count * per_thread});
      parallel_for(B * NH, true, [&](int64_t bh) {
        const int64_t b = bh / NH, h = bh % NH;
        float* own = scratch.data() + heads.slot() * per_thread;
        float *dp = own, *p_scratch = dp + block_floats;
        float* dropped = drop.on() ? own + per_thread - block_floats : nullptr;
        const float* slices = QKV + b * T * ld + h * HS;
        HeadRows head{slices, slices + C, slices + 2 * C, ld};
        const float* dy_h = dY + b * T * C + h * HS;  // row t at + t·C
        float* dslices = dQKV + b * T * ld + h * HS;
        float *dq_h = dslices, *dk_h = dslices + C, *dv_h = dslices + 2 * C;
        int64_t ldy = C, ldd = ld;
        // In place, dq, dk and dv are stored or added straight into the gradient; otherwise they
        // are summed over the blocks in zeroed copies, then moved there.
        if (!in_place) {
          float *q = p_scratch + (keep_p ? 0 : block_floats), *k = q + T * HS, *v = k + T * HS;
          float* dy = v + T * HS;
          pack_head(slices, ld, T, HS, C, q, k, v);
          for (int64_t t = 0; t < T; t++) copy_floats(dy_h + t * C, HS, dy + t * HS);
          head = HeadRows{q, k, v, HS};
          dy_h = dy;
          dq_h = dy + T * HS, dk_h = dq_h + T * HS, dv_h = dk_h + T * HS;
          std::fill_n(dq_h, 3 * T * HS, 0.0f);
          ldy = ldd = HS;
        }
        const float* lse_h = LSE + (b * NH + h) * T;
        const float* kept_end = keep_p ? probs.data() + (bh + 1) * area : nullptr;  // P's blocks
        // Last block first: in place, its keys are all of them, so its dk, dv products store
        // (into a fresh gradient) and the earlier blocks' add.
        for (int64_t q0 = band.last_block(); q0 >= 0; q0 -= band.block) {
          const int64_t nq = band.rows(q0), k0 = band.first_key(q0), span = band.span(q0);
          const float beta_q = in_place && fresh ? 0.0f : 1.0f;  // each query row: one block
          const float beta_kv = in_place && fresh && q0 == band.last_block() ? 0.0f : 1.0f;
          const float* p = p_scratch;
          if (keep_p)
            p = kept_end -= nq * span;
          else
            block_probabilities(band, q0, head, HS, scale, p_scratch, nullptr, lse_h);
          const float* dy = dy_h + q0 * ldy;
          gemm(false, true, nq, span, HS, 1.0f, dy, ldy, head.v + k0 * head.ld, head.ld, 0.0f, dp,
               span);
          if (drop.on()) {  // dP ⊙ D, and P ⊙ D for dV
            drop.apply(band, b, h, q0, dp, dp);
            drop.apply(band, b, h, q0, p, dropped);
          }
          for (int64_t i = 0; i < nq; i++) {  // dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place
            Eigen::Map<Eigen::ArrayXf> dpr(dp + i * span, span);
            Eigen::Map<const Eigen::ArrayXf> pr(p + i * span, span);
            dpr = pr * (dpr - (dpr * pr).sum());
          }
          gemm(false, false, nq, HS, span, scale, dp, span, head.k + k0 * head.ld, head.ld, beta_q,
               dq_h + q0 * ldd, ldd);
          gemm(true, false, span, HS, nq, scale, dp, span, head.q + q0 * head.ld, head.ld, beta_kv,
               dk_h + k0 * ldd, ldd);
          gemm(true, false, span, HS, nq, 1.0f, drop.on() ? dropped : p, span, dy, ldy, beta_kv,
               dv_h + k0 * ldd, ldd);
        }
        if (!in_place) unpack_head(dq_h, dk_h, dv_h, T, HS, C, dslices, ld, !fresh);
      });
    });
  }
  return y;
}

void attend_cached(const float* q, const float* K, const float* V, int64_t C, int n_head,
                   int64_t first, int64_t last, float* Y, float* p) {
  const int64_t HS = C / n_head, n = last - first + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  for (int64_t h = 0; h < n_head; h++) {
    Eigen::Map<const Eigen::VectorXf> qh(q + h * HS, HS);
    // This head's slice of the cached keys and values: n rows of HS, C apart.
    Eigen::Map<const Eigen::MatrixXf, 0, Eigen::OuterStride<>> k(K + first * C + h * HS, HS, n,
                                                                 Eigen::OuterStride<>(C));
    Eigen::Map<const Eigen::MatrixXf, 0, Eigen::OuterStride<>> v(V + first * C + h * HS, HS, n,
                                                                 Eigen::OuterStride<>(C));
    Eigen::Map<Eigen::VectorXf> scores(p, n);
    scores.noalias() = scale * (k.transpose() * qh);
    scores = (scores.array() - scores.maxCoeff()).exp();
    scores /= scores.sum();
    Eigen::Map<Eigen::VectorXf>(Y + h * HS, HS).noalias() = v * scores;
  }
}

}  // namespace tg

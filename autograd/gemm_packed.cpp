// gemm_packed.cpp — tapegpt's own matrix product: packed panels and a register kernel of
// 6×64 floats on AVX-512 (narrower for a narrow C), 6×16 on AVX2 + FMA.
//
// The GotoBLAS / BLIS scheme. C is computed in 6×NR tiles by a register kernel: 6·NR/8 AVX or
// 6·NR/16 AVX-512 accumulators take, for each k, one NR-float row of B times six broadcast
// values of A. On AVX-512 that is 24 accumulators, 4 loads of B and 6 broadcasts for 24 FMAs,
// so the two FMA units, not the loads, set the pace. Before the kernel runs, blocks of A and B
// are copied ("packed") into exactly the order it reads them, so every load is contiguous
// whatever the transposes and strides are, and ragged edges are zero padding instead of
// special code.
// (Two exceptions: A stored row by row is read in place when C is narrow, or always by the
// AVX2 kernel; see reads_a_in_place. B stored as is is read in place by the 6×64 kernel; see
// reads_b_in_place.)
// Block sizes follow the caches: a kc×NR sliver of B (24 KB in L1; 96 KB on AVX-512, in L2)
// meets every sliver of an MC×kc block of A (L2); a kc×NC block of B sits in L3.
//
// Threads take parts of the rows of C and share one packed block of B (or read B in place),
// or, when C has few rows, parts of its columns, each packing its own slivers of B. Each
// element of C is summed by one thread in a fixed k order, with tile boundaries that do not
// move with the split, so the result does not depend on the thread count. Packing buffers
// belong to each thread and are kept: once every thread has run one product, a product
// allocates nothing.
#include "autograd/gemm_packed.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "autograd/gemm.h"

namespace tg {
namespace {

// The register tile of C is MR × NR: NR = 64 on AVX-512 (32 for a narrow C), 16 on AVX2 (a
// template parameter of everything that touches B's slivers or C's tiles).
constexpr int64_t MR = 6;
// Cache blocks: KC deep, an MC × KC block of A in L2, a KC × NC block of B in L3. Each depth
// block reads and writes all of C once more, so blocks are as deep as the caches allow: a
// 384-deep sliver of the AVX-512 kernel's B (96 KB) streams from L2, as a 256-deep one (64 KB)
// already did past a 48 KB L1, and the model's 384-deep products (x·Wᵀ at C = 384, mini's
// 1024 × 50257 logits among them) take one pass over C instead of two: the logits 5-15% faster
// in 6 of 7 runs, no shape slower beyond the noise; 512 measured the same as 384
// (bench/RESULTS.md, session 9).
constexpr int64_t KC = 384, MC = 144, NC = 3072;
constexpr int64_t kParallelMinMacs = int64_t{1} << 20;  // smaller products stay on one thread
// With the AVX-512 kernel, C this narrow reads A unpacked (see run_part). 1024 rather than 512
// since session 9: GPT-2's 768-wide dy·W products ran 2-11% faster with A in place, 2048-row
// ones the same. The AVX2 kernel reads A in place at any width: on a Zen 3, the model's x·Wᵀ
// (lm_heads included) and wide dy·W products ran 2-7% faster so, at 1 and 2 threads, in one
// process alternating with the packed build (bench/RESULTS.md, session 14).
constexpr int64_t kInPlaceMaxColumns = 1024;
// A thread that packs its own slivers of B (one thread, or threads splitting columns) and runs
// the AVX2 kernel walks them kOwnBRows rows of C at a time, not MC. On a Zen 3 the products
// whose thread-owned B outgrows L2 (x·Wᵀ for GPT-2's qkv and fc, both lm_heads' logits, GPT-2's
// 3072-wide dy·W) ran 4-12% faster so, at 1 and 2 threads, with MC's 144 rows and 48 rows
// alternating in one process; the rest were within the noise (bench/RESULTS.md, session 15).
// Threads sharing a block of B keep MC: there, 48 measured 1-6% slower.
constexpr int64_t kOwnBRows = 48;
// On AVX-512, a thread with its own slivers of B that would outgrow half of L2 (more than
// kOwnBInL2Floats) packs each sliver just before its use and runs all of C's rows past it,
// while that sliver is in cache, when A's rows for one depth block fit in kWholeAFloats (A is
// packed whole for that, or read in place). Otherwise its slivers went to L3 and came back
// once per block of rows. On a Zen 5, alternating in one process with the previous build, the
// GEMM time of a GPT-2 step (its products have 256 rows) was 0.4-5.7% lower at 2 threads in 6
// runs, 1.7-2.8% at 1 thread in 4; the most with operands coming cold from memory, as in the
// model (bench/RESULTS.md, session 16).
constexpr int64_t kOwnBInL2Floats = 128 * 1024, kWholeARows = 288, kWholeAFloats = kWholeARows * KC;
// Threads split a C of at most kFewRows rows (kFewRowsInPlaceA when the AVX2 kernel reads A in
// place) by its columns when each can have kSliversPerThread slivers of them (see
// packed_product).
constexpr int64_t kFewRows = 512, kFewRowsInPlaceA = 2048, kSliversPerThread = 4;
// Slivers tile their blocks exactly (the A buffer's slack below relies on it), and
// aligned_alloc wants sizes that are multiples of the alignment.
constexpr int64_t kPackASize = std::max(MC * KC, kWholeAFloats) + 16, kPackBSize = KC * NC;
static_assert(MC % MR == 0 && kOwnBRows % MR == 0 && kOwnBRows <= MC && NC % 64 == 0,
              "blocks are whole slivers");
static_assert(kPackASize * 4 % 64 == 0 && kPackBSize * 4 % 64 == 0, "64-byte multiples");

// A row-major operand: op(X) is X as stored, or (trans) its transpose.
struct Operand {
  const float* data;
  int64_t ld;
  bool trans;
};

// This thread's packing buffer of `size` floats, allocated on first use and kept; nullptr if
// that allocation failed (an exception must not leave an OpenMP region).
struct PackBuffer {
  float* data = nullptr;
  explicit PackBuffer(int64_t size)
      : data(static_cast<float*>(std::aligned_alloc(64, size * sizeof(float)))) {}
  ~PackBuffer() { std::free(data); }
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
};
// + 16 floats of slack in A's: the last store of a block (a transpose) writes 2 floats past
// its sliver
float* pack_a_buffer() {
  thread_local PackBuffer buffer(kPackASize);
  return buffer.data;
}
// A block of B: the thread's own, or, splitting rows, the one the team shares (the caller's).
float* pack_b_buffer() {
  thread_local PackBuffer buffer(kPackBSize);
  return buffer.data;
}

// Rows × 8 floats (src + r·ld, Rows ≤ 8) written as eight columns, out[c·out_stride + r] =
// src[r·ld + c] (rows past Rows are zeros), in increasing c. Each store is 8 floats wide, so
// with out_stride < 8 it writes 8 − out_stride floats past its column, which the next
// column's store overwrites (past the last column: the next sliver, packed later, or slack).
// Packing a row-major operand into k-major slivers is this transpose; doing it in registers keeps
// the packing from costing more than the products it feeds.
template <int Rows>
__attribute__((target("avx2,fma"))) void transpose_8_columns(const float* src, int64_t ld,
                                                             float* out, int64_t out_stride) {
  __m256 r[8], t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) r[i] = i < Rows ? _mm256_loadu_ps(src + i * ld) : _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {  // interleave row pairs
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 8; h += 4) {  // then pairs of pairs: four-row columns in each half
    r[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
    r[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
    r[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
    r[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {  // and rows 0-3 with rows 4-7, 128-bit lane by lane
    t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
    t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
  }
#pragma GCC unroll 8
  for (int c = 0; c < 8; c++) _mm256_storeu_ps(out + c * out_stride, t[c]);
}

// The full slivers of a transposed A's block: rows k < kc of src (ld apart), `full` floats
// each (a multiple of 6), to out[s·6·kc + k·6 + i] = src[k·ld + 6s + i]. Row by row, so each
// row of the operand (a weight gradient's dy or dlogits, usually in memory, not in cache) is
// read as one contiguous run, and the row 4 ahead is prefetched. Sliver by sliver, as before,
// each k touched a line of another row (200 KB apart in mini's dlogits): mini's lm_head
// dW = dlogitsᵀ·x now runs 5-7% faster (a quarter of its step's FLOPs); 2-5% is the prefetch,
// at 2 threads (bench/RESULTS.md, session 12). The loads are masked to six floats, so nothing
// past a row's end is read. Each store is 8 floats wide and writes 2 past its six, which the
// next k's store overwrites; the last k's is masked, since past it is the next sliver.
__attribute__((target("avx2,fma"))) void copy_rows_into_slivers(const float* src, int64_t ld,
                                                                int64_t kc, int64_t full,
                                                                float* out) {
  constexpr int64_t kRowsAhead = 4;
  if (full == 0) return;
  const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  for (int64_t k = 0; k < kc; k++) {
    const float* row = src + k * ld;
    if (k + kRowsAhead < kc) {
      const char* ahead = reinterpret_cast<const char*>(row + kRowsAhead * ld);
      for (int64_t j = 0; j < full; j += 16) _mm_prefetch(ahead + 4 * j, _MM_HINT_T0);
      _mm_prefetch(ahead + 4 * (full - 1), _MM_HINT_T0);  // the run's last line
    }
    float* to = out + k * MR;
    if (k + 1 < kc) {
      for (int64_t i = 0; i < full; i += MR, to += MR * kc)
        _mm256_storeu_ps(to, _mm256_maskload_ps(row + i, six));
    } else {
      for (int64_t i = 0; i < full; i += MR, to += MR * kc)
        _mm256_maskstore_ps(to, six, _mm256_maskload_ps(row + i, six));
    }
  }
}

// Rows [i0, i0+mc) × depth [k0, k0+kc) of op(A) → slivers of MR rows, each stored k-major
// (out[k·MR + i]), rows past the edge zero.
void pack_a(const Operand& A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* out) {
  if (A.trans) {  // the block's rows along k are contiguous: copy them, row by row
    const int64_t full = mc / MR * MR;
    copy_rows_into_slivers(A.data + k0 * A.ld + i0, A.ld, kc, full, out);
    for (int64_t k = 0; full < mc && k < kc; k++) {
      const float* src = A.data + (k0 + k) * A.ld + i0;
      for (int64_t i = 0; i < MR; i++)
        out[full * kc + k * MR + i] = full + i < mc ? src[full + i] : 0.0f;
    }
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += MR, out += MR * kc) {
    const int64_t m = std::min(MR, mc - ir);
    const float* src = A.data + (i0 + ir) * A.ld + k0;
    if (m == MR) {  // each row is contiguous along k: 6×8 transposes, then the rest
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) transpose_8_columns<MR>(src + k, A.ld, out + k * MR, MR);
      for (; k < kc; k++)
        for (int64_t i = 0; i < MR; i++) out[k * MR + i] = src[i * A.ld + k];
    } else {
      for (int64_t k = 0; k < kc; k++)
        for (int64_t i = 0; i < MR; i++) out[k * MR + i] = i < m ? src[i * A.ld + k] : 0.0f;
    }
  }
}

// Depth [k0, k0+kc) × columns [j0, j0+n) of op(B), n ≤ NR → one sliver, out[k·NR + j],
// columns past the edge zero. (B as stored goes through pack_b_slivers' row walk, but for a
// ragged last sliver.)
template <int64_t NR>
void pack_b_sliver(const Operand& B, int64_t k0, int64_t kc, int64_t j0, int64_t n, float* out) {
  if (!B.trans) {
    for (int64_t k = 0; k < kc; k++)
      for (int64_t j = 0; j < NR; j++)
        out[k * NR + j] = j < n ? B.data[(k0 + k) * B.ld + j0 + j] : 0.0f;
  } else if (n == NR) {  // each column is contiguous along k: 8×8 transposes, then the rest
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8)
      for (int64_t j = 0; j < NR; j += 8)
        transpose_8_columns<8>(B.data + (j0 + j) * B.ld + k0 + k, B.ld, out + k * NR + j, NR);
    for (; k < kc; k++)
      for (int64_t j = 0; j < NR; j++) out[k * NR + j] = B.data[(j0 + j) * B.ld + k0 + k];
  } else {
    for (int64_t j = 0; j < n; j++) {
      const float* src = B.data + (j0 + j) * B.ld + k0;
      for (int64_t k = 0; k < kc; k++) out[k * NR + j] = src[k];
    }
    for (int64_t j = n; j < NR; j++)
      for (int64_t k = 0; k < kc; k++) out[k * NR + j] = 0.0f;
  }
}

// NR floats, by 8-float vector moves written out: a plain loop became a call to memcpy once
// NR was 64 (3.5% of a small model's step in perf samples), std::copy_n one to memmove.
template <int64_t NR>
__attribute__((target("avx2"))) inline void copy_run(const float* from, float* to) {
#pragma GCC unroll 8
  for (int64_t j = 0; j < NR; j += 8) _mm256_storeu_ps(to + j, _mm256_loadu_ps(from + j));
}

// Slivers [s0, s1) of the block whose columns are [j0, j0+nc) of op(B), depth [k0, k0+kc) →
// out, one sliver after another (sliver s at out + (s − s0)·kc·NR). B as stored (not
// transposed) is walked row by row: each k reads one contiguous run across all the slivers,
// a stream the hardware prefetcher follows. Sliver by sliver, every k touched a new cache
// line of an operand that is usually cold (the activations a weight gradient reads), and
// that load was the costliest instruction of a small model's products outside the kernel.
template <int64_t NR>
void pack_b_slivers(const Operand& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                    int64_t s0, int64_t s1, float* out) {
  if (B.trans) {
    for (int64_t s = s0; s < s1; s++)
      pack_b_sliver<NR>(B, k0, kc, j0 + s * NR, std::min(NR, nc - s * NR),
                        out + (s - s0) * NR * kc);
    return;
  }
  const int64_t whole = std::min(s1, nc / NR);  // slivers [s0, whole) have NR columns
  for (int64_t k = 0; k < kc; k++) {
    const float* row = B.data + (k0 + k) * B.ld + j0;
    for (int64_t s = s0; s < whole; s++)
      copy_run<NR>(row + s * NR, out + (s - s0) * NR * kc + k * NR);
  }
  if (s0 < s1 && whole < s1)  // the ragged last sliver, zero-padded
    pack_b_sliver<NR>(B, k0, kc, j0 + whole * NR, nc - whole * NR, out + (whole - s0) * NR * kc);
}

// C[6, 16] (row stride ldc) = alpha · a-sliver · b-sliver (+ bias[16] on each row, when not
// null) + beta · C; beta == 0 never reads C. The a-sliver is packed (a[k·6 + i]), or, InPlace,
// six rows of A as stored (a[i·lda + k]). The b-sliver is always packed (b[k·16 + j]).
template <bool InPlace>
__attribute__((target("avx2,fma"))) void kernel_6x16(int64_t kc, const float* a, int64_t lda,
                                                     const float* b, float* c, int64_t ldc,
                                                     float alpha, float beta, const float* bias) {
  // Every loop over the rows is unrolled, so the twelve accumulators live in registers (an
  // array indexed in a rolled loop would be kept on the stack, and run at a third of the speed).
  __m256 left[MR], right[MR];  // columns 0-7 and 8-15 of each row
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    left[i] = right[i] = _mm256_setzero_ps();
    // C is only touched after the k loop: ask for its lines now, so they arrive meanwhile
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++, a += InPlace ? 1 : MR, b += 16) {
    const __m256 b_left = _mm256_load_ps(b), b_right = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 a_i = _mm256_broadcast_ss(a + (InPlace ? i * lda : i));
      left[i] = _mm256_fmadd_ps(a_i, b_left, left[i]);
      right[i] = _mm256_fmadd_ps(a_i, b_right, right[i]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const __m256 bias_left = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 bias_right = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
    __m256 l = _mm256_mul_ps(left[i], va), r = _mm256_mul_ps(right[i], va);
    if (bias) {
      l = _mm256_add_ps(l, bias_left);
      r = _mm256_add_ps(r, bias_right);
    }
    if (beta != 0.0f) {
      l = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), l);
      r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), r);
    }
    _mm256_storeu_ps(row, l);
    _mm256_storeu_ps(row + 8, r);
  }
}

// The same on AVX-512: C[6, 16·NV], 6·NV accumulators, NV 16-float loads of B per k. NV = 4
// (6×64) but for a C at most 32 wide (attention heads of 32), where NV = 2 wastes nothing.
// The b-sliver's k-th 16·NV floats are at b + k·ldb: ldb = 16·NV packed, B's row stride read
// in place (reads_b_in_place), hence unaligned loads (on aligned data they cost the same).
template <int NV, bool InPlace>
__attribute__((target("avx512f"))) void kernel_avx512(int64_t kc, const float* a, int64_t lda,
                                                      const float* b, int64_t ldb, float* c,
                                                      int64_t ldc,
                                                      float alpha, float beta,
                                                      const float* bias) {
  __m512 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      acc[i][v] = _mm512_setzero_ps();
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * v), _MM_HINT_T0);
    }
  }
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++, a += InPlace ? 1 : MR, b += ldb) {
    __m512 b_k[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b_k[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m512 a_i = _mm512_set1_ps(a[InPlace ? i * lda : i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a_i, b_k[v], acc[i][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      __m512 r = _mm512_mul_ps(acc[i][v], va);
      if (bias) r = _mm512_add_ps(r, _mm512_loadu_ps(bias + 16 * v));
      if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16 * v), r);
      _mm512_storeu_ps(row + 16 * v, r);
    }
  }
}

// The kernel for tiles NR wide.
template <int64_t NR, bool InPlace>
void kernel(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
            int64_t ldc, float alpha, float beta, const float* bias) {
  static_assert(NR == 16 || NR == 32 || NR == 64, "a 6×16 AVX2, 6×32 or 6×64 AVX-512 kernel");
  if constexpr (NR == 16)
    kernel_6x16<InPlace>(kc, a, lda, b, c, ldc, alpha, beta, bias);  // ldb is 16: packed
  else
    kernel_avx512<NR / 16, InPlace>(kc, a, lda, b, ldb, c, ldc, alpha, beta, bias);
}

// The m×n tile of C at c (bias: its n columns' bias, or null): straight from the kernel when
// whole; cut by the edge of C, the kernel fills a 6×NR scratch tile and m×n of it is kept.
template <int64_t NR, bool InPlace>
void tile(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
          int64_t ldc, int64_t m, int64_t n, float alpha, float beta, const float* bias) {
  if (m == MR && n == NR) {
    kernel<NR, InPlace>(kc, a, lda, b, ldb, c, ldc, alpha, beta, bias);
    return;
  }
  alignas(64) float scratch[MR * NR];
  float bias_nr[NR] = {};  // the kernel reads NR bias values; past the edge of C, zeros
  if (bias) std::copy_n(bias, n, bias_nr);
  kernel<NR, InPlace>(kc, a, lda, b, ldb, scratch, NR, alpha, 0.0f, bias ? bias_nr : nullptr);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      c[i * ldc + j] = beta != 0.0f ? std::fma(beta, c[i * ldc + j], scratch[i * NR + j])
                                    : scratch[i * NR + j];  // rounded as in the kernel
}

struct Product {
  Operand A, B;
  int64_t M, N, K;
  float alpha, beta;
  float* C;
  int64_t ldc;
  const float* bias;  // [N], added to every row of C with the first depth block; or null
  float* packed_b;  // the shared KC × NC block (the caller's)
  bool split_rows;  // threads take parts of the rows of C, else parts of each block's columns
  std::atomic<int64_t>* row_tickets;  // splitting rows: blocks of rows handed out (run_part)
};

// Packing A pays for itself when many slivers of B reuse it; for a narrow C (the attention
// heads' products, a small model's layers, GPT-2's dx), and always for the AVX2 kernel (NR 16;
// AVX-512 uses NR 16 only for a C at most 16 wide), the kernel reads A's rows where they are.
// Not when the rows are a multiple of 4 KB apart: six of them would then compete for the same
// L1 sets.
template <int64_t NR>
bool reads_a_in_place(const Operand& A, int64_t N) {
  return !A.trans && (NR == 16 || N <= kInPlaceMaxColumns) && (A.ld * 4) % 4096 != 0;
}

// B as stored (not transposed) already holds each sliver's k-th NR floats contiguously, row k
// of B: the 6×64 kernel reads them there, ldb apart, and nothing is packed, shared or waited
// for (see run_part); only a ragged last sliver, narrower than NR, is packed with zeros. Not
// when the rows are a multiple of 4 KB apart (all of a sliver in the same few L1 sets), and
// not for the AVX2 kernel, whose 16-float sliver is packed to stay in L1: read in place it
// ran 3-11% slower on mini's dW and fc2 products. On a Zen 5, in one process alternating
// with the packed build (3 runs), mini's qkv and fc dx = dy·W ran 6-9% faster at 2 threads,
// its dW = dyᵀ·x 1-7%, its lm_head dx 1-11%, GPT-2's qkv dW 1-7%; the rest within the noise
// (±4%); at 1 thread mini's dx 4-7% (bench/RESULTS.md, session 19).
template <int64_t NR>
bool reads_b_in_place(const Operand& B) {
  return NR == 64 && !B.trans && (B.ld * 4) % 4096 != 0;
}

// Whether a thread of `threads` working on p packs slivers of B into a buffer of its own: when
// it has no share in the caller's block, or, B read in place, for a ragged last sliver (so a
// thread that needs no buffer does not allocate one).
template <int64_t NR>
bool packs_own_b(const Product& p, int threads) {
  if (reads_b_in_place<NR>(p.B)) return p.N % NR != 0;
  return !(p.split_rows && threads > 1);
}

// Thread t of `threads`: the whole Goto loop nest over this thread's part of C (its slivers
// of each block when splitting columns; the row blocks it draws when splitting rows). With a
// packed B, every thread runs the same jc / pc loops, so all of them meet every barrier.
template <int64_t NR>
void run_part(const Product& p, int t, int threads) {
  float* packed_a = pack_a_buffer();
  const bool in_place_b = reads_b_in_place<NR>(p.B);
  // Splitting rows, every thread reads every sliver of B: unless B is read in place, they
  // pack it together into the caller's buffer, with barriers around its use. Splitting
  // columns, each packs its own. (Read in place, a thread's own buffer takes a ragged last
  // sliver, when there is one: see packs_own_b.)
  const bool shared_b = p.split_rows && threads > 1 && !in_place_b;
  float* packed_b = shared_b                     ? p.packed_b
                    : packs_own_b<NR>(p, threads) ? pack_b_buffer()
                                                  : nullptr;
  // Splitting rows, threads take blocks of rows as they come free (a ticket counter) instead
  // of a fixed half each: on a shared machine one core is often slowed for a while, and the
  // other then waited for it at the next barrier (~6% of a step in libgomp's spin). A block
  // starts at a multiple of MR rows, so the tiles, and the bits, are the same whoever
  // computes them. About four blocks per thread; at most MC rows. With A and B both read in
  // place, each block streams all of B, so blocks are fewer and larger: the fewest equal ones
  // of at most kWholeARows rows that give every thread as many. On a Zen 4, alternating in one
  // process with MC's blocks (4 runs), mini's lm_head dx = dz·W (1024 rows, B 77 MB) ran 2-6%
  // faster at 2 threads, its qkv dx 0-8%, its fc2 dx the same (bench/RESULTS.md, session 20).
  // Otherwise a thread takes rows kOwnBRows (AVX2) or MC at a time, in order (with B read in
  // place, all rows at once when A's block fits: see below).
  const bool drawn_rows = p.split_rows && threads > 1;
  const bool in_place_a = reads_a_in_place<NR>(p.A, p.N);
  const int64_t draws = in_place_a && in_place_b
                            ? (p.M + threads * kWholeARows - 1) / (threads * kWholeARows) * threads
                            : 4 * threads;
  const int64_t per_draw = (p.M + draws - 1) / draws;
  const int64_t block_rows = drawn_rows ? std::min(in_place_a && in_place_b ? kWholeARows : MC,
                                                   (per_draw + MR - 1) / MR * MR)
                             : NR == 16 ? kOwnBRows
                                        : MC;
  const int64_t row_blocks = (p.M + block_rows - 1) / block_rows;
  int64_t step = 0;  // (jc, pc) steps done: each uses row_blocks + threads tickets
  // (see kOwnBInL2Floats)
  const int64_t max_kc = std::min(KC, p.K), padded_rows = (p.M + MR - 1) / MR * MR;
  const int64_t own_slivers = (std::min(NC, p.N) + NR - 1) / NR / threads;
  const bool whole_a_fits = padded_rows * max_kc <= kWholeAFloats;
  const bool sliver_by_sliver = NR == 64 && !shared_b && whole_a_fits &&
                                own_slivers * NR * max_kc > kOwnBInL2Floats;

  // A's rows [ic, ic + mc) for depth [pc, pc + kc), as the kernel reads them: A stored row by
  // row is read in place, six rows at a time, and only a ragged last sliver (zero rows below
  // the edge) is packed; A transposed is packed whole.
  auto prepare_a = [&](int64_t ic, int64_t mc, int64_t pc, int64_t kc) {
    const int64_t full = mc / MR * MR;
    if (!in_place_a)
      pack_a(p.A, ic, mc, pc, kc, packed_a);
    else if (full < mc)
      pack_a(p.A, ic + full, mc - full, pc, kc, packed_a + full * kc);
  };
  // Rows [ic, ic + mc) of C (A's prepared) against sliver s of the column block at jc (nc
  // wide), depth [pc, pc + kc): the sliver's k-th NR floats at b + k·ldb.
  auto multiply_sliver = [&](int64_t ic, int64_t mc, int64_t jc, int64_t nc, int64_t pc,
                             int64_t kc, int64_t s, const float* b, int64_t ldb) {
    const float beta = pc == 0 ? p.beta : 1.0f;  // later depth blocks add to the first
    const float* bias = pc == 0 ? p.bias : nullptr;
    const int64_t jr = s * NR, n = std::min(NR, nc - jr);
    const float* bias_n = bias ? bias + jc + jr : nullptr;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t m = std::min(MR, mc - ir);
      float* c = p.C + (ic + ir) * p.ldc + jc + jr;
      if (in_place_a && m == MR)
        tile<NR, true>(kc, p.A.data + (ic + ir) * p.A.ld + pc, p.A.ld, b, ldb, c, p.ldc, m, n,
                       p.alpha, beta, bias_n);
      else
        tile<NR, false>(kc, packed_a + ir * kc, 0, b, ldb, c, p.ldc, m, n, p.alpha, beta,
                        bias_n);
    }
  };

  if (in_place_b) {
    // Nothing of B is shared, so no barriers: a thread takes rows of C and runs the whole
    // product over them, every column and depth block, while their C stays in cache.
    auto rows_whole_product = [&](int64_t ic, int64_t mc) {
      for (int64_t jc = 0; jc < p.N; jc += NC) {
        const int64_t nc = std::min(NC, p.N - jc), slivers = (nc + NR - 1) / NR;
        const int64_t use0 = p.split_rows ? 0 : slivers * t / threads;
        const int64_t use1 = p.split_rows ? slivers : slivers * (t + 1) / threads;
        for (int64_t pc = 0; pc < p.K; pc += KC) {
          const int64_t kc = std::min(KC, p.K - pc);
          prepare_a(ic, mc, pc, kc);
          for (int64_t s = use0; s < use1; s++) {
            const int64_t jr = s * NR;
            if (nc - jr >= NR) {
              multiply_sliver(ic, mc, jc, nc, pc, kc, s, p.B.data + pc * p.B.ld + jc + jr,
                              p.B.ld);
            } else {  // the ragged last sliver, packed with zeros past the edge
              pack_b_sliver<NR>(p.B, pc, kc, jc + jr, nc - jr, packed_b);
              multiply_sliver(ic, mc, jc, nc, pc, kc, s, packed_b, NR);
            }
          }
        }
      }
    };
    if (drawn_rows) {
      for (int64_t block; (block = p.row_tickets->fetch_add(1)) < row_blocks;)
        rows_whole_product(block * block_rows, std::min(block_rows, p.M - block * block_rows));
      return;
    }
    // One thread, or threads splitting columns: all rows at once when A's block fits, so each
    // sliver of B is read from memory once (as sliver_by_sliver does for a packed B). Else,
    // with A read in place too, kWholeARows rows at a time rather than MC: B then comes from
    // memory fewer times. On a Zen 4, mini's lm_head dx = dz·W (1024 rows, 50,257 deep, all of
    // W streamed per block of rows) ran 4-6% faster at 1 thread (in one process alternating
    // with MC's 144 rows, 3 runs), the other in-place products the same; with A packed (dW), 288
    // rows were 3-7% slower on the lm_head's (bench/RESULTS.md, session 20).
    const int64_t rows = whole_a_fits ? p.M : in_place_a ? kWholeARows : block_rows;
    for (int64_t ic = 0; ic < p.M; ic += rows) rows_whole_product(ic, std::min(rows, p.M - ic));
    return;
  }

  for (int64_t jc = 0; jc < p.N; jc += NC) {
    const int64_t nc = std::min(NC, p.N - jc), slivers = (nc + NR - 1) / NR;
    // This thread packs slivers [s0, s1) of the block, and computes with all of them
    // (splitting rows) or just those (splitting columns).
    const int64_t s0 = slivers * t / threads, s1 = slivers * (t + 1) / threads;
    const int64_t use0 = p.split_rows ? 0 : s0, use1 = p.split_rows ? slivers : s1;
    const int64_t first = shared_b ? 0 : s0;  // sliver stored at the start of packed_b
    for (int64_t pc = 0; pc < p.K; pc += KC) {
      const int64_t kc = std::min(KC, p.K - pc);
      if (!sliver_by_sliver)
        pack_b_slivers<NR>(p.B, pc, kc, jc, nc, s0, s1, packed_b + (s0 - first) * NR * kc);
      if (shared_b) {
#pragma omp barrier
      }
      // Rows [ic, ic + mc) against this thread's slivers of the block.
      auto compute_rows = [&](int64_t ic, int64_t mc) {
        prepare_a(ic, mc, pc, kc);
        for (int64_t s = use0; s < use1; s++)
          multiply_sliver(ic, mc, jc, nc, pc, kc, s, packed_b + (s - first) * NR * kc, NR);
      };
      if (sliver_by_sliver) {
        prepare_a(0, p.M, pc, kc);
        for (int64_t s = use0; s < use1; s++) {
          pack_b_slivers<NR>(p.B, pc, kc, jc, nc, s, s + 1, packed_b);
          multiply_sliver(0, p.M, jc, nc, pc, kc, s, packed_b, NR);
        }
        continue;
      }
      if (shared_b) {
        // Every thread's last draw of a step is past the end, so a step uses exactly
        // row_blocks + threads tickets, and block b of this step is ticket base + b.
        const int64_t base = step++ * (row_blocks + threads);
        for (int64_t block; (block = p.row_tickets->fetch_add(1) - base) < row_blocks;)
          compute_rows(block * block_rows, std::min(block_rows, p.M - block * block_rows));
        // nobody repacks B while another thread still reads it
#pragma omp barrier
      } else {
        for (int64_t ic = 0; ic < p.M; ic += block_rows)
          compute_rows(ic, std::min(block_rows, p.M - ic));
      }
    }
  }
}

// The product by Eigen's GEMM, when this thread's packing buffers could not be allocated.
void eigen_fallback(const Product& p) {
  if (p.bias) {  // bias rows first, then the product added onto them
    for (int64_t i = 0; i < p.M; i++) std::copy_n(p.bias, p.N, p.C + i * p.ldc);
  }
  eigen_gemm(p.A.trans, p.B.trans, p.M, p.N, p.K, p.alpha, p.A.data, p.A.ld, p.B.data, p.B.ld,
             p.bias ? 1.0f : p.beta, p.C, p.ldc);
}

}  // namespace

bool packed_kernel_supported(PackedKernel kernel) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f");
  return kernel == PackedKernel::avx512_6x64 ? avx512 : avx2;
}

bool packed_gemm_supported() { return packed_kernel_supported(PackedKernel::avx2_6x16); }

namespace {

// The kernel products use: the widest this CPU runs, unless use_packed_kernel chose another.
std::atomic<PackedKernel> chosen_kernel{
    packed_kernel_supported(PackedKernel::avx512_6x64) ? PackedKernel::avx512_6x64
                                                       : PackedKernel::avx2_6x16};

}  // namespace

PackedKernel packed_kernel() { return chosen_kernel; }

void use_packed_kernel(PackedKernel kernel) {
  if (!packed_kernel_supported(kernel))
    throw std::invalid_argument(std::string("this CPU cannot run the packed kernel ") +
                                packed_kernel_name(kernel));
  chosen_kernel = kernel;
}

const char* packed_kernel_name(PackedKernel kernel) {
  return kernel == PackedKernel::avx512_6x64 ? "AVX-512 6x64" : "AVX2 6x16";
}

namespace {

// C = alpha·op(A)·op(B) (+ bias on every row, when not null) + beta·C, in MR × NR tiles.
template <int64_t NR>
void packed_product(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                    float* C, int64_t ldc, const float* bias) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // an empty sum: C = beta · C (+ bias)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++)
        C[i * ldc + j] = (beta != 0.0f ? beta * C[i * ldc + j] : 0.0f) + (bias ? bias[j] : 0.0f);
    return;
  }
  std::atomic<int64_t> row_tickets{0};
  Product p{{A, lda, trans_a}, {B, ldb, trans_b}, M, N, K, alpha, beta, C, ldc, bias,
            pack_b_buffer(), true, &row_tickets};
  // omp_in_parallel() is false in a region of one thread: a team is then started here, as
  // parallel_for does.
  const bool parallel =
      !omp_in_parallel() && omp_get_max_threads() > 1 && M * N * K >= kParallelMinMacs;
  if (!parallel) {
    if (!p.packed_b || !pack_a_buffer()) {  // out of memory for the buffers: Eigen's GEMM
      eigen_fallback(p);
      return;
    }
    run_part<NR>(p, 0, 1);
    return;
  }
  // Split the longer side, but not the rows of a short C whose columns go round: with 512 rows
  // or fewer, each thread's rows are a few tiles, too little work for a block of B that both
  // threads pack and stream (GPT-2's 256-row products at 2 threads: 160-190 GFLOP/s splitting
  // rows, 210-230 splitting columns; equal at 768 rows, and rows win for a narrow C there).
  // Threads splitting columns each pack the A they use; the AVX2 kernel, reading A in place,
  // packs at most a ragged last sliver, and there columns won up to 2,048 rows: on a Zen 3,
  // alternating in one process, baby's and mini's x·Wᵀ and dy·W products ran 2-7% faster (15
  // of 16 products), while the products with a transposed A (dW, packed twice) ran 1-6%
  // slower (bench/RESULTS.md, session 15).
  const int64_t row_tiles = (M + MR - 1) / MR, column_slivers = (std::min(N, NC) + NR - 1) / NR;
  const int64_t few_rows = NR == 16 && reads_a_in_place<NR>(p.A, N) ? kFewRowsInPlaceA : kFewRows;
  p.split_rows = row_tiles >= column_slivers &&
                 (M > few_rows || column_slivers < kSliversPerThread * omp_get_max_threads());
  std::atomic<bool> buffers_ok{p.packed_b != nullptr};
#pragma omp parallel
  {
    // Every thread's buffers exist (first use allocates them) before anyone starts: its A
    // buffer, and its B buffer where it packs B itself (packs_own_b).
    const bool own_b = packs_own_b<NR>(p, omp_get_num_threads());
    const bool have_own = pack_a_buffer() && (!own_b || pack_b_buffer());
    if (!have_own) buffers_ok = false;
#pragma omp barrier
    if (buffers_ok) run_part<NR>(p, omp_get_thread_num(), omp_get_num_threads());
  }
  if (!buffers_ok) eigen_fallback(p);
}

// The product with the tile that fits: the chosen kernel's widest, or for a narrow C one that
// wastes less (every kernel gives the same bits, so the choice changes only the speed).
void product_with_fitting_tile(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                               float alpha, const float* A, int64_t lda, const float* B,
                               int64_t ldb, float beta, float* C, int64_t ldc, const float* bias) {
  const bool avx512 = chosen_kernel.load(std::memory_order_relaxed) == PackedKernel::avx512_6x64;
  if (!avx512 || N <= 16)  // a 6×32 tile would be half empty
    packed_product<16>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
  else if (N <= 32)  // a 6×64 tile would be half empty
    packed_product<32>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
  else
    packed_product<64>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
}

}  // namespace

void packed_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  product_with_fitting_tile(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                            nullptr);
}

void packed_gemm_plus_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                           const float* A, int64_t lda, const float* B, int64_t ldb,
                           const float* bias, float* C, int64_t ldc) {
  product_with_fitting_tile(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, bias);
}

}  // namespace tg

#include "autograd/gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <stdexcept>
#include <string>

#include "autograd/gemm_packed.h"
#include "autograd/parallel.h"

#ifdef TAPEGPT_GEMM_ONEDNN
#include <dnnl.h>
#endif

namespace tg {
namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
using Map = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;
}  // namespace

void eigen_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  Map c(C, M, N, Eigen::OuterStride<>(ldc));
  if (beta == 0.0f)
    c.setZero();
  else if (beta != 1.0f)
    c *= beta;
  // Stored shapes: A is [M,K] or, transposed, [K,M]; likewise B.
  ConstMap a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  ConstMap b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b)
    c.noalias() += alpha * a * b;
  else if (!trans_a && trans_b)
    c.noalias() += alpha * a * b.transpose();
  else if (trans_a && !trans_b)
    c.noalias() += alpha * a.transpose() * b;
  else
    c.noalias() += alpha * a.transpose() * b.transpose();
}

namespace {

// One row times a transposed matrix, y [N] = alpha·W [N, K]·x [K] + beta·y: the shape of every
// product while generating one token. It is a read of W and nothing more, so it goes as fast as
// memory allows: a dot product per row of W, and rows split between threads (a GEMM library's
// packing is pure overhead here). Each thread takes the same rows at every token, so a
// model's weights stay split between the cores' caches.
// A split (from kRowProductMinSplitWeights) pays only when half the read saves more than a
// fork and join of the team, which depends on the machine: an empty 2-thread region takes
// ~3 µs on the AMD EPYC (Zen 5) VM this was measured on, and one core reads baby's weights at
// ~34 GB/s there, a 64K-weight product in ~7 µs. Splitting from 16K weights made baby's
// generation 1.7× slower there than leaving its products (all ≤ 64K weights) on one thread,
// though 12-16% faster on the Intel Xeon before it; mini's products (147K and more) are split.
//
// On AVX-512 each row is its own dot product, read front to back: 16 floats at a time into one
// sum, the 16 lanes added at the end. Eigen's kernel walks 8 (or 4) rows side by side, and the
// memory's prefetchers follow that interleaved read poorly: on a Zen 4, with the weights
// coming from memory as in generation, mini's lm_head (50257 × 384) read at 11 GB/s on one
// thread and 20 on two that way, 25 and 31 row by row; mini's and GPT-2's layer products ran
// 7-34% faster on two threads (one 10% slower: 384 × 1536), 22-115% on one; mini generated
// 1.55× as many tokens a second on two threads, 1.9× on one, baby the same (bench/RESULTS.md,
// session 20). The same bits as Eigen's in every product measured (K a multiple of 16; a last
// part of K shorter than 16 goes into the same sum).
__attribute__((target("avx512f"))) float row_dot_avx512(const float* w, const float* x,
                                                        int64_t K) {
  __m512 sum = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16)
    sum = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(x + k), sum);
  if (k < K) {
    const __mmask16 rest = static_cast<__mmask16>((1u << (K - k)) - 1);
    sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(rest, w + k), _mm512_maskz_loadu_ps(rest, x + k),
                          sum);
  }
  return _mm512_reduce_add_ps(sum);
}

void row_times_transposed(int64_t N, int64_t K, float alpha, const float* x, const float* W,
                          int64_t ldw, float beta, float* y) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx512) {
      for (int64_t j = begin; j < end; j++) {
        const float kept = beta == 0.0f ? 0.0f : beta != 1.0f ? beta * y[j] : y[j];
        y[j] = kept + alpha * row_dot_avx512(W + j * ldw, x, K);
      }
      return;
    }
    ConstMap w(W + begin * ldw, end - begin, K, Eigen::OuterStride<>(ldw));
    Eigen::Map<const Eigen::VectorXf> v(x, K);
    Eigen::Map<Eigen::VectorXf> out(y + begin, end - begin);
    if (beta == 0.0f)
      out.setZero();
    else if (beta != 1.0f)
      out *= beta;
    out.noalias() += alpha * (w * v);
  };
  // Eigen's kernel takes rows in groups of 8 (then 4, 2, 1 at the end), and a group sums its
  // last K % 16 columns in another order than a single row does: every thread's rows start at
  // a multiple of 8, so each row is summed as it would be on one thread, whatever the count.
  const int threads = N * K >= kRowProductMinSplitWeights ? omp_get_max_threads() : 1;
  auto first_row = [&](int64_t p) { return p == threads ? N : N * p / threads / 8 * 8; };
  parallel_for(threads, threads > 1, [&](int64_t p) { rows(first_row(p), first_row(p + 1)); });
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (M == 1 && !trans_a && trans_b && K > 0) {
    row_times_transposed(N, K, alpha, A, B, ldb, beta, C);
    return;
  }
#if defined(TAPEGPT_GEMM_ONEDNN)
  if (K == 0) {  // oneDNN wants K >= 1; the product is then just beta * C
    eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                                    lda, B, ldb, beta, C, ldc);
  if (status != dnnl_success)
    throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(status));
#elif defined(TAPEGPT_GEMM_EIGEN)
  eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
  if (packed_gemm_supported())
    packed_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else
    eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void gemm_plus_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                    int64_t lda, const float* B, int64_t ldb, const float* bias, float* C,
                    int64_t ldc) {
#if !defined(TAPEGPT_GEMM_ONEDNN) && !defined(TAPEGPT_GEMM_EIGEN)
  if (M > 1 && packed_gemm_supported()) {
    packed_gemm_plus_bias(trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, C, ldc);
    return;
  }
#endif
  parallel_for(M, M * N > kParallelMinWork,
               [&](int64_t i) { std::copy_n(bias, N, C + i * ldc); });
  gemm(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C, ldc);
}

const char* gemm_engine() {
#if !defined(TAPEGPT_GEMM_ONEDNN) && !defined(TAPEGPT_GEMM_EIGEN)
  if (packed_gemm_supported()) {  // the kernel may be chosen at run time (use_packed_kernel)
    static const std::string wide = std::string("tapegpt packed ") +
                                    packed_kernel_name(PackedKernel::avx512_6x64);
    static const std::string narrow = std::string("tapegpt packed ") +
                                      packed_kernel_name(PackedKernel::avx2_6x16);
    return (packed_kernel() == PackedKernel::avx512_6x64 ? wide : narrow).c_str();
  }
#endif
  static const std::string name = [] {
#if defined(TAPEGPT_GEMM_ONEDNN)
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + " sgemm";
#else
    const std::string eigen = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                              std::to_string(EIGEN_MAJOR_VERSION) + "." +
                              std::to_string(EIGEN_MINOR_VERSION);
#if defined(TAPEGPT_GEMM_EIGEN)
    return eigen;
#else
    return eigen + " (no AVX2 on this CPU)";
#endif
#endif
  }();
  return name.c_str();
}

}  // namespace tg

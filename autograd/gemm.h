// gemm.h — the one place matrix products happen.
//
// Row-major:  C[M,N] = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T.
// lda/ldb/ldc are row strides (elements between consecutive rows), so a head's slice of a
// [B, T, 3C] buffer can be multiplied in place without copying it out.
//
// The engine is chosen at build time (TAPEGPT_GEMM): tapegpt's own packed kernel
// (gemm_packed.cpp: AVX-512 or AVX2, whichever the CPU has; Eigen's GEMM on a CPU without
// AVX2), oneDNN's sgemm, or Eigen's GEMM.
// One row times a transposed matrix (a token being generated) is a matrix-vector product
// instead: a plain read of the weights, no packing, split between threads from
// kRowProductMinSplitWeights weights (gemm.cpp says why there).
// Called inside an OpenMP parallel region, all of them run single-threaded, so an op may
// parallelise over heads and call gemm per head.
#pragma once
#include <cstdint>

namespace tg {

constexpr int64_t kRowProductMinSplitWeights = int64_t{1} << 17;

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);

// C[M,N] = op(A)·op(B) + bias, bias [N] added to every row: a linear layer's output. The
// packed kernel adds the bias as it stores C, instead of C being filled with bias rows first
// and read back; other engines do exactly that. Same bits either way.
void gemm_plus_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                    int64_t lda, const float* B, int64_t ldb, const float* bias, float* C,
                    int64_t ldc);

// The same product through Eigen's own GEMM: the fallback engine, and a yardstick in bench/.
void eigen_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc);

// "tapegpt packed AVX-512 6x64" (or "AVX2 6x16"), "oneDNN 2.6.x sgemm" or "Eigen 3.4.x".
const char* gemm_engine();

}  // namespace tg

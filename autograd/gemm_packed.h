// gemm_packed.h — tapegpt's own matrix product (see gemm_packed.cpp); gemm() picks it.
#pragma once
#include <cstdint>

namespace tg {

// Whether this CPU can run the packed kernel (AVX2 and FMA).
bool packed_gemm_supported();

// The register kernels: 6×64 floats of C on AVX-512 (6×32 or 6×16 for a C at most 32 or 16
// wide), 6×16 on AVX2 + FMA. Products use the widest one this CPU runs; tests and benchmarks
// may choose another (for every thread, until chosen again). All do the same arithmetic on
// each element of C in the same order (the same depth blocks, one fma per k), so they give
// the same bits, as thread counts do.
enum class PackedKernel { avx2_6x16, avx512_6x64 };
bool packed_kernel_supported(PackedKernel kernel);
PackedKernel packed_kernel();
void use_packed_kernel(PackedKernel kernel);  // throws std::invalid_argument if unsupported
const char* packed_kernel_name(PackedKernel kernel);  // "AVX-512 6x64", "AVX2 6x16"

// Row-major C[M,N] = alpha·op(A)·op(B) + beta·C, the contract of gemm() in gemm.h. Products of
// at least 2^20 multiply-adds use every OpenMP thread outside a parallel region; smaller ones,
// and every call inside a region, run on the calling thread. Allocates only the first time a
// thread uses it (its packing buffers are kept for the next product); if that allocation
// fails, the product is done by Eigen's GEMM instead.
void packed_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc);

// C[M,N] = op(A)·op(B) + bias [N] on every row: gemm_plus_bias() in gemm.h.
void packed_gemm_plus_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                           const float* A, int64_t lda, const float* B, int64_t ldb,
                           const float* bias, float* C, int64_t ldc);

}  // namespace tg

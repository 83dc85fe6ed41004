// machine_probe — two figures of the machine that bench/RESULTS.md reasons with:
//   - the register-only fp32 FMA peak (no memory traffic at all): the ceiling any GEMM is a
//     share of, per thread count;
//   - what an empty OpenMP parallel region (fork + join) costs: below a few of these, a product
//     or element-wise loop is faster on one thread (kRowProductMinSplitWeights, SerialScope).
// Usage: OMP_NUM_THREADS=T ./build/machine_probe
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// 12 independent accumulators of 8 floats: enough chains to cover the FMA latency of two
// pipes on the CPUs we run on, so the loop is bound by FMA throughput alone.
__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 scale = _mm256_set1_ps(0.9999f), shift = _mm256_set1_ps(1e-7f);
  for (int64_t k = 0; k < iterations; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; i++) sum = _mm256_add_ps(sum, acc[i]);
  return _mm256_cvtss_f32(sum);  // every chain feeds the result, so none is optimised away
}

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 scale = _mm512_set1_ps(0.9999f), shift = _mm512_set1_ps(1e-7f);
  for (int64_t k = 0; k < iterations; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
  }
  __m512 sum = acc[0];  // every chain feeds the result, so none is optimised away
  for (int i = 1; i < 12; i++) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];  // (GCC 12's _mm512_reduce_add_ps warns from inside its header)
  _mm512_store_ps(lanes, sum);
  return lanes[0];
}

// GFLOP/s of `threads` threads each running the chains, best of 5.
template <typename Chains>
double fma_peak(Chains chains, int floats_per_fma, int threads) {
  const int64_t iterations = 50'000'000;
  double best = 0.0;
  for (int round = 0; round < 5; round++) {
    float sink = 0.0f;
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += chains(iterations);
    const double s = seconds_since(t0);
    best = std::max(best, 2.0 * 12 * floats_per_fma * iterations * threads / s / 1e9);
    if (sink == 12345.0f) std::printf(" ");
  }
  return best;
}

// Median µs of an empty parallel region of `threads` threads, over many back-to-back regions
// (as an op sequence meets them: the team is warm and its threads spin between regions).
double region_microseconds(int threads) {
  const int repeats = 20000;
  std::vector<double> us(repeats);
  for (int r = 0; r < repeats; r++) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    { asm volatile("" ::: "memory"); }
    us[r] = seconds_since(t0) * 1e6;
  }
  std::nth_element(us.begin(), us.begin() + repeats / 2, us.end());
  return us[repeats / 2];
}

}  // namespace

int main() {
  const int threads = omp_get_max_threads();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f");
  for (int t = 1; t <= threads; t++) {
    std::printf("threads %d:", t);
    if (avx2) std::printf("  AVX2 FMA peak %.1f GFLOP/s", fma_peak(fma_chains_avx2, 8, t));
    if (avx512) std::printf("  AVX-512 FMA peak %.1f GFLOP/s", fma_peak(fma_chains_avx512, 16, t));
    if (t > 1) std::printf("  empty parallel region %.2f us (median)", region_microseconds(t));
    std::printf("\n");
  }
  return 0;
}

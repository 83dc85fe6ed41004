// gemm_engines — the three GEMM engines tapegpt can be built with, side by side in one process
// on the transformer's own products (bench/RESULTS.md §5 is its output); tapegpt's own engine
// twice, with its widest kernel and with the AVX2 kernel that a CPU without AVX-512 runs.
//
// Each shape is run by every engine in turn, round after round (A B C A B C ...), so a burst of
// someone else's load on this shared machine hits all three alike; the table shows each
// engine's best round in GFLOP/s, the ratio to oneDNN, and how far tapegpt's product is from
// Eigen's (random inputs in [-1, 1]).
//   usage: gemm_engines [rounds]      (threads: OMP_NUM_THREADS, default all cores)
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autograd/gemm.h"
#include "autograd/gemm_packed.h"
#include "autograd/pool.h"

namespace {

struct Shape {
  const char* name;
  int64_t M, N, K;
  bool trans_a, trans_b;
  int64_t lda() const { return trans_a ? M : K; }  // row strides of the operands as stored
  int64_t ldb() const { return trans_b ? K : N; }
};

// Forward y = x·Wᵀ, backward dx = dy·W and dW += dyᵀ·x, for a few layers of the bench configs.
const Shape kShapes[] = {
    {"mini qkv  y = x·Wᵀ", 2048, 1152, 384, false, true},
    {"mini qkv  dx = dy·W", 2048, 384, 1152, false, false},
    {"mini qkv  dW = dyᵀ·x", 1152, 384, 2048, true, false},
    {"mini fc2  y = x·Wᵀ", 2048, 384, 1536, false, true},
    {"mini lm_head  z = x·Wᵀ (1024-row chunk)", 1024, 50257, 384, false, true},
    {"mini lm_head  dx = dz·W", 1024, 384, 50257, false, false},
    {"mini lm_head  dW = dzᵀ·x", 50257, 384, 1024, true, false},
    {"gpt2 qkv  y = x·Wᵀ", 256, 2304, 768, false, true},
    {"gpt2 qkv  dx = dy·W", 256, 768, 2304, false, false},
    {"gpt2 qkv  dW = dyᵀ·x", 2304, 768, 256, true, false},
    {"gpt2 lm_head  z = x·Wᵀ", 256, 50257, 768, false, true},
    {"gpt2 lm_head  dx = dz·W", 256, 768, 50257, false, false},
    {"gpt2 lm_head  dW = dzᵀ·x", 50257, 768, 256, true, false},
    {"baby fc  y = x·Wᵀ", 768, 512, 128, false, true},
    {"baby fc  dW = dyᵀ·x", 512, 128, 768, true, false},
    {"square 2048³", 2048, 2048, 2048, false, false},
};

// n floats from tapegpt's pool (huge pages from 4 MB on), zeroed.
struct Buffer {
  std::shared_ptr<float> data_;
  size_t n;
  explicit Buffer(size_t size) : data_(tg::pool_alloc(size)), n(size) { std::fill(begin(), end(), 0.0f); }
  float* data() const { return data_.get(); }
  float* begin() const { return data_.get(); }
  float* end() const { return data_.get() + n; }
  size_t size() const { return n; }
  float operator[](size_t i) const { return data_.get()[i]; }
};

using Engine = void (*)(const Shape&, const float*, const float*, float*);

void run_tapegpt(const Shape& s, const float* A, const float* B, float* C) {
  tg::packed_gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A, s.lda(), B, s.ldb(), 0.0f, C,
                  s.N);
}
// tapegpt's AVX2 kernel, on a CPU that also has AVX-512 (what a CPU without it would run)
void run_tapegpt_avx2(const Shape& s, const float* A, const float* B, float* C) {
  const tg::PackedKernel widest = tg::packed_kernel();
  tg::use_packed_kernel(tg::PackedKernel::avx2_6x16);
  run_tapegpt(s, A, B, C);
  tg::use_packed_kernel(widest);
}
void run_onednn(const Shape& s, const float* A, const float* B, float* C) {
  dnnl_sgemm(s.trans_a ? 'T' : 'N', s.trans_b ? 'T' : 'N', s.M, s.N, s.K, 1.0f, A, s.lda(), B,
             s.ldb(), 0.0f, C, s.N);
}
void run_eigen(const Shape& s, const float* A, const float* B, float* C) {
  tg::eigen_gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A, s.lda(), B, s.ldb(), 0.0f, C,
                 s.N);
}

double seconds_of(Engine engine, const Shape& s, const float* A, const float* B, float* C) {
  const auto t0 = std::chrono::steady_clock::now();
  engine(s, A, B, C);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 8;
  if (!tg::packed_gemm_supported()) {
    std::fprintf(stderr, "gemm_engines: this CPU has no AVX2/FMA, tapegpt's kernel cannot run\n");
    return 1;
  }
  const dnnl_version_t* v = dnnl_version();
  std::printf("threads %d, %d rounds, best round per engine; tapegpt's kernel %s; oneDNN %d.%d.%d\n\n",
              omp_get_max_threads(), rounds, tg::packed_kernel_name(tg::packed_kernel()),
              v->major, v->minor, v->patch);
  std::printf("| product | M×N×K | tapegpt GFLOP/s | tapegpt AVX2 | oneDNN | Eigen |"
              " tapegpt / oneDNN | max abs(tapegpt − Eigen) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const Engine engines[] = {run_tapegpt, run_tapegpt_avx2, run_onednn, run_eigen};
  constexpr int kEngines = 4;
  for (const Shape& s : kShapes) {
    // The model's buffers: from tapegpt's pool, so the big ones are on transparent huge pages
    // as in training. On 4 KB pages this VM made tapegpt's products up to 2.5× slower right
    // after Eigen's, whose packing buffers are mapped and unmapped on every call
    // (bench/RESULTS.md, session 16).
    Buffer A(s.M * s.K), B(s.K * s.N), C(s.M * s.N), C_eigen(s.M * s.N);
    for (float& x : A) x = uniform(rng);
    for (float& x : B) x = uniform(rng);
    double best[kEngines] = {1e30, 1e30, 1e30, 1e30};
    for (int r = -1; r < rounds; r++)  // round -1 warms caches, pages and packing buffers
      for (int e = 0; e < kEngines; e++) {
        const double t = seconds_of(engines[e], s, A.data(), B.data(), C.data());
        if (r >= 0) best[e] = std::min(best[e], t);
      }
    run_tapegpt(s, A.data(), B.data(), C.data());
    run_eigen(s, A.data(), B.data(), C_eigen.data());
    double max_diff = 0.0;
    for (size_t i = 0; i < C.size(); i++)
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(C[i] - C_eigen[i])));
    const double gflop = 2.0 * s.M * s.N * s.K / 1e9;
    std::printf("| %s | %lld×%lld×%lld | %.0f | %.0f | %.0f | %.0f | %.2f | %.1e |\n", s.name,
                static_cast<long long>(s.M), static_cast<long long>(s.N),
                static_cast<long long>(s.K), gflop / best[0], gflop / best[1], gflop / best[2],
                gflop / best[3], best[2] / best[0], max_diff);
  }
  return 0;
}

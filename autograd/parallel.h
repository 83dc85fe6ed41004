// parallel.h — one level of threading for every op.
//
// Element-wise loops use OpenMP; the thread count is OpenMP's (OMP_NUM_THREADS, default: all
// cores). Small tensors run on one thread: forking a team costs more than it saves.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include <omp.h>

namespace tg {

constexpr int64_t kParallelMinWork = 1 << 14;  // elements below which a loop stays serial
int num_threads();

// body(i) for every i in [0, n): split across OpenMP's threads when `parallel` is true and no
// parallel region is active, else a plain loop on this thread. Serial work must not enter an
// OpenMP region at all: libgomp allocates a team for every region, even a one-thread one
// (an `if(false)` clause or a nested region), which was a heap allocation per small op.
template <typename Body>
void parallel_for(int64_t n, bool parallel, Body body) {
  if (!parallel || omp_in_parallel() || omp_get_max_threads() == 1) {
    for (int64_t i = 0; i < n; i++) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) body(i);
}

// While it lives (and `enabled`), parallel_for and the GEMMs run on the calling thread alone;
// the thread count it found comes back when it ends. For a stretch of work made only of pieces
// too small to split: a team woken for it would then spin beside the one busy core.
class SerialScope {
 public:
  explicit SerialScope(bool enabled) : saved_(enabled ? omp_get_max_threads() : 0) {
    if (enabled) omp_set_num_threads(1);
  }
  ~SerialScope() {
    if (saved_ > 0) omp_set_num_threads(saved_);
  }
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  int saved_;
};

// Σ_{i<n} term(i) in double, the same to the last bit on every run with the same thread
// count: OpenMP's reduction clause combines partial sums in whatever order threads finish,
// which would make a resumed training run drift from an uninterrupted one.
template <typename Term>
double deterministic_sum(int64_t n, Term term) {
  constexpr int kMaxParts = 256;
  const int threads = n > kParallelMinWork ? std::min(omp_get_max_threads(), kMaxParts) : 1;
  double partial[kMaxParts];
  parallel_for(threads, threads > 1, [&](int64_t p) {
    const int64_t begin = n * p / threads, end = n * (p + 1) / threads;
    // Sixteen running sums, element i into lane (i − begin) mod 16: one running sum waited
    // four cycles for each add (GPT-2's gradient norm took ~100 ms), sixteen vectorise.
    constexpr int kLanes = 16;
    double lane[kLanes] = {};
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes)
      for (int l = 0; l < kLanes; l++) lane[l] += term(i + l);
    for (int l = 0; i < end; i++, l++) lane[l] += term(i);
    double s = 0.0;
    for (int l = 0; l < kLanes; l++) s += lane[l];
    partial[p] = s;
  });
  double total = 0.0;
  for (int p = 0; p < threads; p++) total += partial[p];
  return total;
}

// out[c] += Σ_r term(r, c) for a [rows, cols] row-major layout (out[c] = … when accumulate is
// false): threads own blocks of columns and walk the rows, so the inner loop reads contiguous
// memory and vectorises, and each sum is taken in the same order on every run (bias and
// LayerNorm parameter gradients).
template <typename Term>
void column_sums(int64_t rows, int64_t cols, float* out, bool accumulate, Term term) {
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  parallel_for(blocks, rows * cols > kParallelMinWork, [&](int64_t blk) {
    const int64_t c0 = blk * kBlock, n = std::min(kBlock, cols - c0);
    float acc[kBlock] = {};
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < n; j++) acc[j] += term(r, c0 + j);
    for (int64_t j = 0; j < n; j++) out[c0 + j] = accumulate ? out[c0 + j] + acc[j] : acc[j];
  });
}

}  // namespace tg

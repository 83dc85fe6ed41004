// gemm() and tapegpt's packed kernel: every transpose, stride, edge and alpha/beta against a
// double-precision loop, on one thread and split across threads; results that do not depend
// on the thread count; calls from inside a parallel region; K = 0; beta = 0 over NaN.
#include "autograd/gemm.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "autograd/gemm_packed.h"

namespace tg {
namespace {

struct Case {
  int64_t M, N, K;
  bool ta, tb;
  float alpha, beta;
  int64_t pad = 0;  // extra elements per row of every operand: strided, not packed, inputs
};

struct Operands {
  std::vector<float> A, B, C;
  int64_t lda, ldb, ldc;
};

Operands make_operands(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f);
  Operands o;
  o.lda = (c.ta ? c.M : c.K) + c.pad;
  o.ldb = (c.tb ? c.K : c.N) + c.pad;
  o.ldc = c.N + c.pad;
  o.A.resize((c.ta ? c.K : c.M) * o.lda);
  o.B.resize((c.tb ? c.N : c.K) * o.ldb);
  o.C.resize(c.M * o.ldc);
  for (auto* v : {&o.A, &o.B, &o.C})
    for (float& x : *v) x = U(rng);
  return o;
}

// C after the product, computed in double.
std::vector<double> reference(const Case& c, const Operands& o) {
  std::vector<double> C(o.C.begin(), o.C.end());
  for (int64_t i = 0; i < c.M; i++)
    for (int64_t j = 0; j < c.N; j++) {
      double sum = 0.0;
      for (int64_t k = 0; k < c.K; k++)
        sum += double(c.ta ? o.A[k * o.lda + i] : o.A[i * o.lda + k]) *
               double(c.tb ? o.B[j * o.ldb + k] : o.B[k * o.ldb + j]);
      double& out = C[i * o.ldc + j];
      out = c.alpha * sum + (c.beta != 0.0f ? c.beta * out : 0.0);
    }
  return C;
}

using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                        const float*, int64_t, float, float*, int64_t);

// The build's engine, and tapegpt's kernel whatever the build's engine is.
std::vector<GemmFn> engines() {
  std::vector<GemmFn> fns = {gemm};
  if (packed_gemm_supported()) fns.push_back(packed_gemm);
  return fns;
}

// body() once with each packed kernel this CPU runs (AVX-512 6×64 and AVX2 6×16 here), then
// the widest chosen again.
template <class Body>
void for_each_kernel(Body body) {
  const PackedKernel widest = packed_kernel();
  for (PackedKernel k : {PackedKernel::avx512_6x64, PackedKernel::avx2_6x16}) {
    if (!packed_kernel_supported(k)) continue;
    use_packed_kernel(k);
    SCOPED_TRACE(packed_kernel_name(k));
    body();
  }
  if (packed_gemm_supported())
    use_packed_kernel(widest);
  else
    body();  // Eigen's GEMM
}

void expect_matches(const Case& c, uint32_t seed, GemmFn fn) {
  Operands o = make_operands(c, seed);
  const std::vector<double> want = reference(c, o);
  fn(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta, o.C.data(),
     o.ldc);
  const double tol = 1e-5 * (c.K + 4);
  for (int64_t i = 0; i < c.M; i++)
    for (int64_t j = 0; j < o.ldc; j++) {
      const double got = o.C[i * o.ldc + j], expected = want[i * o.ldc + j];
      if (j >= c.N) {  // the padding past N is not C's: untouched
        ASSERT_EQ(got, expected) << "wrote past column N at (" << i << ", " << j << ")";
        continue;
      }
      ASSERT_NEAR(got, expected, tol) << "M" << c.M << " N" << c.N << " K" << c.K << " ta" << c.ta
                                      << " tb" << c.tb << " at (" << i << ", " << j << ")";
    }
}

TEST(Gemm, AllTransposesAndEdgesMatchADoubleLoop) {
  // Sizes straddle the 6×16, 6×32 and 6×64 register tiles, the 384-deep, 144-row and
  // 3072-column blocks; the big ones run on all threads (rows split, columns split, and rows
  // split over two 3072-column blocks of B). On AVX-512, 150 × 3090 and 250 × 1000 (A packed,
  // A in place) take B's slivers one at a time past all rows (kOwnBInL2Floats). One-row
  // products with B transposed are generation's dot products, K with and without a last part
  // shorter than 16.
  const int64_t sizes[][3] = {{1, 1, 1},     {5, 15, 7},      {6, 16, 8},      {7, 17, 9},
                              {13, 33, 383}, {37, 50, 385},   {145, 47, 769},  {150, 3090, 400},
                              {64, 64, 32},  {300, 20, 1000}, {1160, 3090, 20}, {12, 64, 128},
                              {13, 65, 129}, {7, 130, 127},   {13, 32, 300},   {300, 32, 1000},
                              {250, 1000, 300}, {1, 70, 16},  {1, 33, 17},     {1, 300, 385}};
  for_each_kernel([&] {
    for (GemmFn fn : engines()) {
      uint32_t seed = 1;
      for (const auto& s : sizes)
        for (int t = 0; t < 4; t++) {
          const bool ta = t & 1, tb = t & 2;
          expect_matches({s[0], s[1], s[2], ta, tb, 1.0f, 0.0f}, seed++, fn);
          expect_matches({s[0], s[1], s[2], ta, tb, 0.5f, 1.0f, 3}, seed++, fn);
          expect_matches({s[0], s[1], s[2], ta, tb, 1.0f, -0.7f, 1}, seed++, fn);
        }
    }
  });
}

// A linear layer's product: C = op(A)·op(B) + bias on every row, against the double loop and,
// bit for bit, against the bias rows written first and the product added onto them (what the
// other engines do). C starts as NaN: nothing of it may be read.
TEST(Gemm, PlusBiasMatchesBiasRowsWrittenFirst) {
  const int64_t sizes[][3] = {{1, 5, 3},    {7, 17, 9},       {37, 50, 385},  {64, 64, 32},
                              {13, 65, 129}, {150, 3090, 400}, {300, 20, 1000}, {13, 32, 300},
                              {300, 32, 1000}};
  for_each_kernel([&] {
    uint32_t seed = 300;
    for (const auto& s : sizes)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          const Case c{s[0], s[1], s[2], ta, tb, 1.0f, 1.0f};
          Operands o = make_operands(c, seed++);
          std::vector<float> bias(c.N);
          for (int64_t j = 0; j < c.N; j++) bias[j] = std::sin(0.7f * j);
          for (int64_t i = 0; i < c.M; i++) std::copy_n(bias.data(), c.N, o.C.data() + i * o.ldc);
          const std::vector<double> want = reference(c, o);  // bias rows, then beta = 1
          std::vector<float> rows_first = o.C;
          gemm(ta, tb, c.M, c.N, c.K, 1.0f, o.A.data(), o.lda, o.B.data(), o.ldb, 1.0f,
               rows_first.data(), o.ldc);
          std::vector<float> fused(o.C.size(), std::nanf(""));
          gemm_plus_bias(ta, tb, c.M, c.N, c.K, o.A.data(), o.lda, o.B.data(), o.ldb, bias.data(),
                         fused.data(), o.ldc);
          for (int64_t i = 0; i < c.M * o.ldc; i++) {
            ASSERT_NEAR(fused[i], want[i], 1e-5 * (c.K + 4)) << "M" << c.M << " N" << c.N << " K"
                                                             << c.K << " at " << i;
            ASSERT_EQ(fused[i], rows_first[i]) << "M" << c.M << " N" << c.N << " K" << c.K
                                               << " ta" << ta << " tb" << tb << " at " << i;
          }
        }
  });
}

TEST(Gemm, BetaZeroNeverReadsC) {  // C may hold NaN (fresh memory): beta = 0 overwrites it
  for_each_kernel([&] {
    for (GemmFn fn : engines())
      for (const Case& c : {Case{40, 70, 30, false, true, 1.0f, 0.0f},     // one thread
                            Case{200, 300, 600, true, false, 1.0f, 0.0f},  // all, K > 384
                            Case{3, 5, 0, false, false, 1.0f, 0.0f}}) {    // K = 0
        Operands o = make_operands(c, 7);
        for (float& x : o.C) x = std::nanf("");
        fn(c.ta, c.tb, c.M, c.N, c.K, 1.0f, o.A.data(), o.lda, o.B.data(), o.ldb, 0.0f, o.C.data(),
           o.ldc);
        for (float x : o.C) ASSERT_TRUE(std::isfinite(x)) << "M" << c.M << " K" << c.K;
      }
  });
}

TEST(Gemm, EmptyDepthScalesC) {
  for (GemmFn fn : engines()) {
    std::vector<float> C = {1.0f, 2.0f, 3.0f, 4.0f};
    fn(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, C.data(), 2);
    EXPECT_EQ(C, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
  }
}

// A narrow C reads a row-major A in place, unless A's rows are a multiple of 4 KB apart: then
// it packs A. Both must give the same bits (the choice depends on the stride, nothing else).
TEST(Gemm, ReadingAInPlaceGivesThePackedResult) {
  if (!packed_gemm_supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  // Ragged rows and columns, 3 depth blocks; the second C is split by columns between threads
  // (a short, wide C such as GPT-2's dx); the third is wider than a block of B (the AVX2
  // kernel reads A in place at any width, as for the lm_head's logits).
  for (const Case& c : {Case{145, 47, 769, false, false, 1.0f, 0.5f},
                        Case{145, 700, 769, false, false, 1.0f, 0.5f},
                        Case{145, 3100, 769, false, false, 1.0f, 0.5f}}) {
    for_each_kernel([&] {
      Operands in_place = make_operands(c, 21), packed = in_place;
      packed.lda = 1024;  // 4 KB between rows: packed
      packed.A.assign(c.M * packed.lda, 0.0f);
      for (int64_t i = 0; i < c.M; i++)
        std::copy_n(&in_place.A[i * in_place.lda], c.K, &packed.A[i * packed.lda]);
      for (Operands* o : {&in_place, &packed})
        packed_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb,
                    c.beta, o->C.data(), o->ldc);
      EXPECT_EQ(in_place.C, packed.C) << "N " << c.N;
    });
  }
}

// The AVX-512 kernel reads B as stored (not transposed) where it is, unless its rows are a
// multiple of 4 KB apart; then B is packed. Both give the same bits, on one thread and on two:
// threads drawing rows (no shared block of B, no barriers), threads splitting the columns of a
// short C, a ragged last sliver, two column blocks, three depth blocks, bias and beta; on one
// thread, 700 rows with A in place too go 288 at a time (a ragged last block).
TEST(Gemm, ReadingBInPlaceGivesThePackedResult) {
  if (!packed_kernel_supported(PackedKernel::avx512_6x64)) GTEST_SKIP() << "no AVX-512 here";
  const PackedKernel chosen = packed_kernel();
  use_packed_kernel(PackedKernel::avx512_6x64);  // the kernel that reads B in place
  for (const Case& c : {Case{700, 130, 769, false, false, 1.0f, 0.5f},
                        Case{1500, 3100, 400, true, false, 1.0f, 0.0f},
                        Case{100, 1000, 769, false, false, 0.5f, 1.0f}}) {
    for (int threads : {1, 2}) {
      for (bool bias : {false, true}) {
        Operands in_place = make_operands(c, 31), packed = in_place;
        packed.ldb = (c.N + 1023) / 1024 * 1024;  // a multiple of 4 KB between rows: packed
        packed.B.assign(c.K * packed.ldb, 0.0f);
        for (int64_t k = 0; k < c.K; k++)
          std::copy_n(&in_place.B[k * in_place.ldb], c.N, &packed.B[k * packed.ldb]);
        std::vector<float> bias_values(c.N);
        for (int64_t j = 0; j < c.N; j++) bias_values[j] = 0.01f * static_cast<float>(j % 37);
        const int saved = omp_get_max_threads();
        omp_set_num_threads(threads);
        for (Operands* o : {&in_place, &packed}) {
          if (bias)
            packed_gemm_plus_bias(c.ta, c.tb, c.M, c.N, c.K, o->A.data(), o->lda, o->B.data(),
                                  o->ldb, bias_values.data(), o->C.data(), o->ldc);
          else
            packed_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(),
                        o->ldb, c.beta, o->C.data(), o->ldc);
        }
        omp_set_num_threads(saved);
        EXPECT_EQ(in_place.C, packed.C) << c.M << "x" << c.N << "x" << c.K << ", threads "
                                        << threads << (bias ? ", bias" : "");
      }
    }
  }
  use_packed_kernel(chosen);
}

// Ops call gemm per attention head inside a parallel loop: each thread then multiplies alone,
// with its own packing buffers, and gets what a lone call gets.
TEST(Gemm, CallsFromInsideAParallelRegion) {
  const Case c{70, 90, 300, false, true, 1.0f, 0.0f};
  constexpr int kHeads = 8;
  std::vector<Operands> heads;
  for (int h = 0; h < kHeads; h++) heads.push_back(make_operands(c, 100 + h));
  std::vector<Operands> alone = heads;
  for (Operands& o : alone)
    gemm(c.ta, c.tb, c.M, c.N, c.K, 1.0f, o.A.data(), o.lda, o.B.data(), o.ldb, 0.0f, o.C.data(),
         o.ldc);
#pragma omp parallel for schedule(dynamic)
  for (int h = 0; h < kHeads; h++) {
    Operands& o = heads[h];
    gemm(c.ta, c.tb, c.M, c.N, c.K, 1.0f, o.A.data(), o.lda, o.B.data(), o.ldb, 0.0f, o.C.data(),
         o.ldc);
  }
  for (int h = 0; h < kHeads; h++) EXPECT_EQ(heads[h].C, alone[h].C) << "head " << h;
}

// Each element of C is summed by one thread in a fixed order: 1 and 2 threads agree to the bit
// (a resumed training run must not depend on how many threads the first run had).
TEST(Gemm, PackedResultDoesNotDependOnThreadCount) {
  if (!packed_gemm_supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  if (omp_get_thread_limit() < 2 || omp_get_dynamic())
    GTEST_SKIP() << "OpenMP cannot give this test two threads";
  for_each_kernel([&] {
    for (const Case& c : {Case{2100, 200, 700, false, true, 1.0f, 0.0f},    // threads split rows
                          Case{2101, 3100, 64, false, false, 1.0f, 0.5f},    // ... over 2 B blocks
                          Case{1200, 3100, 300, true, false, 1.0f, 0.5f},    // ... A transposed
                          Case{605, 500, 700, false, true, 1.0f, 0.0f},      // AVX2: columns
                          Case{300, 500, 700, false, true, 1.0f, 0.0f},      // a short C: columns
                          Case{20, 3500, 300, true, false, 1.0f, -0.7f},     // split columns
                          Case{256, 1000, 800, false, true, 1.0f, 0.5f},     // ... sliver by sliver
                          Case{1200, 3100, 64, false, false, 1.0f, 0.5f}}) {  // ... against rows
      Operands one = make_operands(c, 11), two = one;
      const int saved = omp_get_max_threads();
      omp_set_num_threads(1);
      packed_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, one.A.data(), one.lda, one.B.data(), one.ldb,
                  c.beta, one.C.data(), one.ldc);
      omp_set_num_threads(2);
      packed_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, two.A.data(), two.lda, two.B.data(), two.ldb,
                  c.beta, two.C.data(), two.ldc);
      omp_set_num_threads(saved);
      EXPECT_EQ(one.C, two.C);
    }
  });
}

// A one-row product (every product of generation) of kRowProductMinSplitWeights weights or
// more splits W's rows between threads: 1 and 2 threads agree to the bit, whatever rows the
// split gives each (K not a multiple of 16, an odd number of rows).
TEST(Gemm, OneRowProductDoesNotDependOnThreadCount) {
  if (omp_get_thread_limit() < 2 || omp_get_dynamic())
    GTEST_SKIP() << "OpenMP cannot give this test two threads";
  for (const Case& c : {Case{1, 397, 333, false, true, 1.0f, 0.0f},
                        Case{1, 1031, 345, false, true, 0.5f, 1.0f}}) {
    ASSERT_GE(c.N * c.K, kRowProductMinSplitWeights);
    Operands one = make_operands(c, 41), two = one;
    const int saved = omp_get_max_threads();
    for (auto [threads, o] : {std::pair{1, &one}, std::pair{2, &two}}) {
      omp_set_num_threads(threads);
      gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb, c.beta,
           o->C.data(), o->ldc);
    }
    omp_set_num_threads(saved);
    EXPECT_EQ(one.C, two.C);
  }
}

// The AVX-512 and AVX2 kernels do the same arithmetic on each element of C in the same order,
// so a run moved to a CPU without AVX-512 (or resumed there) computes the same numbers.
TEST(Gemm, KernelsGiveTheSameBits) {
  if (!packed_kernel_supported(PackedKernel::avx512_6x64)) GTEST_SKIP() << "no AVX-512 here";
  const PackedKernel widest = packed_kernel();
  for (const Case& c : {Case{145, 47, 769, false, false, 1.0f, 0.5f},   // A in place
                        Case{145, 1100, 769, false, true, 1.0f, 0.5f},  // ... on AVX2 only
                        Case{600, 700, 600, false, true, 1.0f, 0.0f},   // threads split rows
                        Case{20, 3500, 300, true, false, 1.0f, -0.7f},  // ... columns
                        Case{256, 1000, 800, false, true, 1.0f, 0.5f},  // ... sliver by sliver
                        Case{13, 65, 129, true, true, 0.5f, 1.0f, 3},
                        Case{70, 32, 64, false, false, 1.0f, 0.0f},     // 6×32 on AVX-512
                        Case{300, 32, 1000, true, true, 0.5f, 1.0f},    // ... two threads
                        Case{64, 20, 300, true, true, 1.0f, 1.0f}}) {
    Operands wide = make_operands(c, 31), narrow = wide;
    for (auto [kernel, o] : {std::pair{PackedKernel::avx512_6x64, &wide},
                             std::pair{PackedKernel::avx2_6x16, &narrow}}) {
      use_packed_kernel(kernel);
      packed_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb,
                  c.beta, o->C.data(), o->ldc);
    }
    EXPECT_EQ(wide.C, narrow.C) << "M" << c.M << " N" << c.N << " K" << c.K;
  }
  use_packed_kernel(widest);
}

}  // namespace
}  // namespace tg

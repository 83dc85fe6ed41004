// Forward values of the ops against straightforward reference computations.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/pool.h"
#include "autograd/tape.h"
#include "tests/autograd/gradcheck.h"

namespace tg {
namespace {
using testing::random_tensor;

// Attention of one (b, h) the slow, obvious way: full score matrix, mask, softmax; with
// dropout p, weight (b, h, t, j) kept by draw ((b·NH + h)·T + t)·T + j of `drops` (ops.h).
std::vector<float> naive_attention(const Tensor& qkv, int NH, int window, float dropout = 0.0f,
                                   Rng drops = {}) {
  const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, HS = C / NH;
  const int64_t W = window <= 0 ? T : window;
  std::vector<float> y(B * T * C, 0.0f);
  const float* X = qkv.data();
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < NH; h++)
      for (int64_t t = 0; t < T; t++) {
        std::vector<double> s(T, -std::numeric_limits<double>::infinity());
        double mx = -1e300;
        for (int64_t j = 0; j <= t; j++) {
          if (j < t - W + 1) continue;
          double d = 0;
          for (int64_t i = 0; i < HS; i++)
            d += X[(b * T + t) * 3 * C + h * HS + i] * X[(b * T + j) * 3 * C + C + h * HS + i];
          s[j] = d / std::sqrt(static_cast<double>(HS));
          mx = std::max(mx, s[j]);
        }
        double z = 0;
        for (int64_t j = 0; j < T; j++) z += std::exp(s[j] - mx);
        for (int64_t j = 0; j < T; j++) {
          double p = std::exp(s[j] - mx) / z;
          if (dropout > 0.0f)
            p = drops.uniform_at(static_cast<uint64_t>(((b * NH + h) * T + t) * T + j)) < dropout ? 0.0
                                                                                                  : p / (1.0 - dropout);
          for (int64_t i = 0; i < HS; i++)
            y[(b * T + t) * C + h * HS + i] += p * X[(b * T + j) * 3 * C + 2 * C + h * HS + i];
        }
      }
  return y;
}

TEST(Forward, AttentionMatchesNaiveDenseAndBanded) {
  for (int window : {0, 1, 5, 64, 200}) {
    Tensor qkv = random_tensor({2, 150, 3 * 12}, 40, 1.0f, false);
    Tensor y = causal_attention(qkv, 3, window);
    std::vector<float> ref = naive_attention(qkv, 3, window);
    for (int64_t i = 0; i < y.numel(); i++)
      ASSERT_NEAR(y.data()[i], ref[i], 1e-5) << "window " << window << " element " << i;
  }
}

// Attention dropout: the same weights dropped (by their (b, h, t, j)) whatever the query
// blocks, bands and threads, the rest scaled by 1/(1−p); the stream moves past B·NH·T·T draws.
TEST(Forward, AttentionDropoutMatchesNaive) {
  for (int window : {0, 5, 64}) {
    Tensor qkv = random_tensor({2, 150, 3 * 12}, 44, 1.0f, false);
    Rng rng{11, 3};
    Tensor y = causal_attention(qkv, 3, window, 0.25f, &rng);
    EXPECT_EQ(rng.offset, 3u + 2 * 3 * 150 * 150);
    std::vector<float> ref = naive_attention(qkv, 3, window, 0.25f, Rng{11, 3});
    for (int64_t i = 0; i < y.numel(); i++)
      ASSERT_NEAR(y.data()[i], ref[i], 1e-5) << "window " << window << " element " << i;
  }
}

// With one position, each head's weight is 1: dropout leaves v / (1 − p) or 0, in about a
// fraction p of the 512 heads.
TEST(Forward, AttentionDropoutDropsAboutP) {
  Tensor qkv = random_tensor({64, 1, 3 * 16}, 45, 1.0f, false);
  Rng rng{5, 0};
  Tensor y = causal_attention(qkv, 8, 0, 0.5f, &rng);
  int dropped = 0;
  for (int64_t b = 0; b < 64; b++)
    for (int64_t h = 0; h < 8; h++) {
      const float* v = qkv.data() + b * 48 + 32 + h * 2;
      const float* out = y.data() + b * 16 + h * 2;
      if (out[0] == 0.0f && out[1] == 0.0f) {
        dropped++;
      } else {
        EXPECT_FLOAT_EQ(out[0], 2.0f * v[0]);
        EXPECT_FLOAT_EQ(out[1], 2.0f * v[1]);
      }
    }
  EXPECT_GT(dropped, 200);  // 256 expected; ±56 is 5 standard deviations
  EXPECT_LT(dropped, 312);
}

// Backward's two sources of P give the same gradients, and automatic keeps P only while it is
// no bigger than qkv: what a recorded op holds on to shows which one it chose.
TEST(Attention, KeptAndRecomputedProbabilitiesAgree) {
  for (int window : {0, 7, 64}) {
    std::vector<float> grads[2];
    int run = 0;
    for (SavedProbabilities saved : {SavedProbabilities::keep, SavedProbabilities::recompute}) {
      Tensor qkv = random_tensor({2, 150, 3 * 12}, 41, 1.0f);
      Tensor y = causal_attention(qkv, 3, window, 0.0f, nullptr, saved);
      Tensor w = random_tensor(y.shape(), 42, 1.0f, false);
      tape().backward(sum(mul(y, w)));
      grads[run++].assign(qkv.grad(), qkv.grad() + qkv.numel());
    }
    for (size_t i = 0; i < grads[0].size(); i++)
      ASSERT_NEAR(grads[0][i], grads[1][i], 1e-5) << "window " << window << " element " << i;
  }
  auto held_bytes = [](int64_t T, int64_t C, int NH) {  // saved for backward, beyond y and lse
    Tensor qkv = random_tensor({1, T, 3 * C}, 43, 1.0f);
    const size_t before = pool_stats().bytes_in_use;
    Tensor y = causal_attention(qkv, NH);
    const size_t held = pool_stats().bytes_in_use - before - (T * C + NH * T) * sizeof(float);
    tape().clear();
    return held;
  };
  // baby: P of 4 heads, each in two query blocks of 32 rows (32 and 64 keys)
  EXPECT_EQ(held_bytes(64, 128, 4), 4u * (32 * 32 + 32 * 64) * sizeof(float));
  EXPECT_EQ(held_bytes(1024, 64, 4), 0u);  // long and dense: P would be 11× qkv
}

// An empty last dimension has no rows to divide into: refused by name, not a division by zero
// (SIGFPE) in the row count.
TEST(Forward, AnEmptyLastDimensionIsRefused) {
  const Tensor x = Tensor::zeros({2, 0}), w = Tensor::zeros({3, 0}), none;
  const Ids targets{{2}, {0, 0}};
  auto refused = [](auto op, const char* name) {
    try {
      op();
      ADD_FAILURE() << name << " accepted a [2, 0] input";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), std::string(name) + ": input [2, 0] has no last dimension to work along");
    }
  };
  refused([&] { linear(x, w, none); }, "linear");
  refused([&] { layer_norm(x, Tensor::zeros({0}), none); }, "layer_norm");
  refused([&] { softmax(x); }, "softmax");
  refused([&] { cross_entropy(x, targets); }, "cross_entropy");
  refused([&] { lm_head_cross_entropy(x, w, targets); }, "lm_head_cross_entropy");
}

TEST(Forward, LayerNormHasZeroMeanUnitVariance) {
  Tensor x = random_tensor({3, 10}, 41, 5.0f, false);
  Tensor y = layer_norm(x, Tensor::full({10}, 1.0f), Tensor::zeros({10}));
  for (int r = 0; r < 3; r++) {
    double m = 0, v = 0;
    for (int c = 0; c < 10; c++) m += y.data()[r * 10 + c];
    m /= 10;
    for (int c = 0; c < 10; c++) v += std::pow(y.data()[r * 10 + c] - m, 2);
    EXPECT_NEAR(m, 0.0, 1e-6);
    EXPECT_NEAR(v / 10, 1.0, 1e-4);  // eps = 1e-5 shaves a little off
  }
}

TEST(Forward, CrossEntropyOfUniformLogitsIsLogV) {
  Tensor logits = Tensor::zeros({2, 3, 11});
  Ids t{{2, 3}, {0, 1, 2, 3, -1, 10}};
  EXPECT_NEAR(cross_entropy(logits, t).data()[0], std::log(11.0), 1e-6);
}

TEST(Forward, GeluKnownValues) {
  Tensor x = Tensor::from_vector({3}, {-1.0f, 0.0f, 2.0f});
  Tensor y = gelu(x);
  EXPECT_NEAR(y.data()[0], -0.158808f, 1e-5);  // torch GELU(approximate="tanh")
  EXPECT_NEAR(y.data()[1], 0.0f, 1e-7);
  EXPECT_NEAR(y.data()[2], 1.954598f, 1e-5);
}

TEST(Forward, DropoutKeepsExpectationAndIsSeeded) {
  Tensor x = Tensor::full({100000}, 1.0f);
  Rng a{3, 0}, b{3, 0};
  Tensor y1 = dropout(x, 0.25f, a), y2 = dropout(x, 0.25f, b);
  double total = 0;
  int64_t zeros = 0;
  for (int64_t i = 0; i < x.numel(); i++) {
    ASSERT_EQ(y1.data()[i], y2.data()[i]);
    // dropped, or kept and scaled by 1/(1 − p) exactly
    ASSERT_TRUE(y1.data()[i] == 0.0f || y1.data()[i] == 1.0f / 0.75f) << y1.data()[i];
    zeros += y1.data()[i] == 0.0f;
    total += y1.data()[i];
  }
  // A fraction p dropped: 25,000 ± 5 standard deviations (137 each).
  EXPECT_NEAR(static_cast<double>(zeros), 25000.0, 685.0);
  EXPECT_NEAR(total / x.numel(), 1.0, 0.01);
  EXPECT_EQ(a.offset, 100000u);  // the stream advanced: the next call draws new numbers
}

TEST(Tape, GradientsAccumulateAcrossBackwardPasses) {
  Tensor x = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
  for (int i = 0; i < 2; i++) {
    Tensor loss = sum(mul(x, x));
    tape().backward(loss);
  }
  EXPECT_FLOAT_EQ(x.grad()[0], 4.0f);  // 2 · (2x) at x = 1
  EXPECT_FLOAT_EQ(x.grad()[1], 8.0f);
  x.zero_grad();
  EXPECT_FLOAT_EQ(x.grad()[1], 0.0f);
}

TEST(Tape, NoGradRecordsNothing) {
  Tensor x = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
  {
    NoGrad no_grad;
    Tensor y = gelu(x);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_EQ(tape().size(), 0u);
  Tensor y = gelu(x);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(tape().size(), 1u);
  tape().clear();
}

TEST(Tape, OnlyInputsNeedingGradientsGetOne) {
  Tensor a = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
  Tensor b = Tensor::from_vector({2}, {3.0f, 4.0f}, false);
  Tensor loss = sum(mul(a, b));
  tape().backward(loss);
  EXPECT_FLOAT_EQ(a.grad()[1], 4.0f);
  EXPECT_FALSE(b.has_grad());
}

TEST(Errors, ShapeMismatchesNameBothShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  try {
    matmul(a, b);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mul(a, Tensor::zeros({3, 2})), std::invalid_argument);
  EXPECT_THROW(add(a, Tensor::zeros({2})), std::invalid_argument);
  EXPECT_THROW(causal_attention(Tensor::zeros({1, 2, 9}), 2), std::invalid_argument);
  EXPECT_THROW(embedding(Ids{{1}, {7}}, Tensor::zeros({5, 2})), std::out_of_range);
  EXPECT_THROW(cross_entropy(Tensor::zeros({1, 5}), Ids{{1}, {5}}), std::out_of_range);
}

TEST(Pool, ReusesBuffersOfTheSameSize) {
  { Tensor t = Tensor::empty({12345}); }
  size_t fresh = pool_stats().fresh_allocations;
  for (int i = 0; i < 10; i++) Tensor t = Tensor::empty({12345});
  EXPECT_EQ(pool_stats().fresh_allocations, fresh);
}

}  // namespace
}  // namespace tg

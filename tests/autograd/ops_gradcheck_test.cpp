// Finite-difference checks of every op's backward, including odd shapes (sizes that are not
// multiples of 8, T = 1, batch 1).
#include <gtest/gtest.h>

#include "tests/autograd/gradcheck.h"

namespace tg {
namespace {
using testing::gradcheck;
using testing::random_tensor;
using Inputs = std::vector<Tensor>;

TEST(Gradcheck, MatmulPlainAndTransposed) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = random_tensor(ta ? Shape{5, 3} : Shape{3, 5}, 1);
      Tensor b = random_tensor(tb ? Shape{7, 5} : Shape{5, 7}, 2);
      gradcheck([&](const Inputs& x) { return matmul(x[0], x[1], ta, tb); }, {a, b});
    }
}

TEST(Gradcheck, MatmulBatchedAndSharedRight) {
  Tensor a = random_tensor({2, 3, 4, 5}, 3), b = random_tensor({2, 3, 5, 3}, 4);
  gradcheck([](const Inputs& x) { return matmul(x[0], x[1]); }, {a, b});
  Tensor shared = random_tensor({5, 6}, 5);
  gradcheck([](const Inputs& x) { return matmul(x[0], x[1]); }, {a, shared});
  Tensor bt = random_tensor({2, 3, 3, 5}, 6);
  gradcheck([](const Inputs& x) { return matmul(x[0], x[1], false, true); }, {a, bt});
}

TEST(Gradcheck, LinearWithAndWithoutBias) {
  Tensor x = random_tensor({2, 3, 7}, 7), w = random_tensor({5, 7}, 8), b = random_tensor({5}, 9);
  gradcheck([](const Inputs& v) { return linear(v[0], v[1], v[2]); }, {x, w, b});
  gradcheck([](const Inputs& v) { return linear(v[0], v[1], Tensor()); }, {x, w});
  Tensor one = random_tensor({1, 7}, 10);
  gradcheck([](const Inputs& v) { return linear(v[0], v[1], v[2]); }, {one, w, b});
}

TEST(Gradcheck, LinearPlusResidual) {
  Tensor x = random_tensor({2, 3, 7}, 40), w = random_tensor({5, 7}, 41), b = random_tensor({5}, 42);
  Tensor r = random_tensor({2, 3, 5}, 43);
  gradcheck([](const Inputs& v) { return linear_residual(v[0], v[1], v[2], v[3]); }, {x, w, b, r});
  gradcheck([](const Inputs& v) { return linear_residual(v[0], v[1], Tensor(), v[2]); }, {x, w, r});
  // The residual used again downstream: its gradient must add up from both uses.
  gradcheck([](const Inputs& v) { return mul(linear_residual(v[0], v[1], v[2], v[3]), v[3]); },
            {x, w, b, r});
}

TEST(Gradcheck, AddSameShapeAndBroadcastBias) {
  Tensor a = random_tensor({3, 4, 5}, 11), b = random_tensor({3, 4, 5}, 12);
  gradcheck([](const Inputs& x) { return add(x[0], x[1]); }, {a, b});
  Tensor bias = random_tensor({5}, 13), rows = random_tensor({4, 5}, 14);
  gradcheck([](const Inputs& x) { return add(x[0], x[1]); }, {a, bias});
  gradcheck([](const Inputs& x) { return add(x[0], x[1]); }, {a, rows});
}

TEST(Gradcheck, MulScaleSum) {
  Tensor a = random_tensor({3, 7}, 15), b = random_tensor({3, 7}, 16);
  gradcheck([](const Inputs& x) { return mul(x[0], x[1]); }, {a, b});
  gradcheck([](const Inputs& x) { return scale(x[0], -2.5f); }, {a});
  gradcheck([](const Inputs& x) { return sum(x[0]); }, {a});
  // The same tensor on both sides: gradients from both uses must add up.
  gradcheck([](const Inputs& x) { return mul(x[0], x[0]); }, {a});
}

TEST(Gradcheck, Gelu) {
  Tensor x = random_tensor({4, 9}, 17, 3.0f);
  gradcheck([](const Inputs& v) { return gelu(v[0]); }, {x});
}

TEST(Gradcheck, LayerNormWithAndWithoutBias) {
  Tensor x = random_tensor({2, 3, 11}, 18, 2.0f), w = random_tensor({11}, 19),
         b = random_tensor({11}, 20);
  gradcheck([](const Inputs& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b});
  gradcheck([](const Inputs& v) { return layer_norm(v[0], v[1], Tensor()); }, {x, w});
}

TEST(Gradcheck, Softmax) {
  Tensor x = random_tensor({3, 2, 9}, 21, 3.0f);
  gradcheck([](const Inputs& v) { return softmax(v[0]); }, {x});
}

TEST(Gradcheck, EmbeddingWithRepeatedIds) {
  Tensor w = random_tensor({6, 5}, 22);
  Ids ids{{2, 3}, {1, 4, 1, 0, 5, 1}};
  gradcheck([&](const Inputs& v) { return embedding(ids, v[0]); }, {w});
}

TEST(Gradcheck, CrossEntropyWithIgnoredTargets) {
  Tensor logits = random_tensor({2, 3, 7}, 23, 3.0f);
  Ids targets{{2, 3}, {0, 6, -1, 3, -1, 2}};
  gradcheck([&](const Inputs& v) { return cross_entropy(v[0], targets); }, {logits});
  Ids one{{1, 1}, {4}};
  Tensor single = random_tensor({1, 1, 7}, 24, 3.0f);
  gradcheck([&](const Inputs& v) { return cross_entropy(v[0], one); }, {single});
}

struct AttentionCase {
  int64_t B, T, C;
  int NH, window;
};

class AttentionGradcheck : public ::testing::TestWithParam<AttentionCase> {};

// Both ways backward can get P: kept from forward, or recomputed from the log-sum-exps.
TEST_P(AttentionGradcheck, MatchesFiniteDifferences) {
  const AttentionCase c = GetParam();
  for (SavedProbabilities saved : {SavedProbabilities::keep, SavedProbabilities::recompute}) {
    SCOPED_TRACE(saved == SavedProbabilities::keep ? "P kept" : "P recomputed");
    Tensor qkv = random_tensor({c.B, c.T, 3 * c.C}, 25, 1.5f);
    gradcheck([&](const Inputs& v) { return causal_attention(v[0], c.NH, c.window, 0.0f, nullptr, saved); },
              {qkv});
  }
}

INSTANTIATE_TEST_SUITE_P(
    DenseAndBanded, AttentionGradcheck,
    ::testing::Values(AttentionCase{2, 5, 6, 2, 0},     // dense, small
                      AttentionCase{1, 1, 6, 3, 0},     // T = 1
                      AttentionCase{1, 9, 9, 3, 1},     // W = 1: each position sees itself
                      AttentionCase{2, 7, 4, 1, 3},     // T not a multiple of W
                      AttentionCase{1, 6, 4, 2, 10},    // W >= T: same as dense
                      AttentionCase{1, 40, 4, 2, 0},    // two blocks of 32, read in place
                      AttentionCase{1, 40, 4, 2, 39},   // banded, blocks of 16, read in place
                      AttentionCase{1, 70, 4, 2, 0},    // crosses a query block (64 rows)
                      AttentionCase{1, 70, 4, 1, 20}),  // banded across blocks
    [](const ::testing::TestParamInfo<AttentionCase>& info) {
      const AttentionCase& c = info.param;
      return "B" + std::to_string(c.B) + "_T" + std::to_string(c.T) + "_C" + std::to_string(c.C) +
             "_NH" + std::to_string(c.NH) + "_W" + std::to_string(c.window);
    });

// qkv feeds two attention ops: the later one's backward runs first and stores its gradient,
// the earlier (dense) one's must add to it. At T = 5 and 40 the dense op adds its products
// straight into the gradient (one query block, two); at T = 70 it sums them in copies first.
TEST(Gradcheck, AttentionAddsToAGradientAlreadyThere) {
  for (int64_t T : {5, 40, 70}) {
    for (SavedProbabilities saved : {SavedProbabilities::keep, SavedProbabilities::recompute}) {
      SCOPED_TRACE("T " + std::to_string(T));
      Tensor qkv = random_tensor({2, T, 12}, 29, 1.5f);
      gradcheck(
          [&](const Inputs& v) {
            Tensor dense = causal_attention(v[0], 2, 0, 0.0f, nullptr, saved);  // recorded first: adds
            Tensor banded = causal_attention(v[0], 2, 3, 0.0f, nullptr, saved);  // its backward stores
            return add(dense, banded);
          },
          {qkv});
    }
  }
}

// Attention dropout: each evaluation starts from the same stream state, so sees the same mask.
TEST(Gradcheck, AttentionWithDropout) {
  for (const AttentionCase& c : {AttentionCase{2, 5, 6, 2, 0}, AttentionCase{1, 40, 4, 2, 39},
                                 AttentionCase{1, 70, 4, 1, 20}, AttentionCase{1, 70, 4, 2, 0}}) {
    for (SavedProbabilities saved : {SavedProbabilities::keep, SavedProbabilities::recompute}) {
      SCOPED_TRACE("T " + std::to_string(c.T) + " W " + std::to_string(c.window) +
                   (saved == SavedProbabilities::keep ? ", P kept" : ", P recomputed"));
      Tensor qkv = random_tensor({c.B, c.T, 3 * c.C}, 32, 1.5f);
      gradcheck(
          [&](const Inputs& v) {
            Rng rng{9, 0};
            return causal_attention(v[0], c.NH, c.window, 0.3f, &rng, saved);
          },
          {qkv});
    }
  }
}

TEST(Gradcheck, ReshapeSplitMergeHeads) {
  Tensor x = random_tensor({2, 3, 6}, 26);
  gradcheck([](const Inputs& v) { return reshape(v[0], {6, 6}); }, {x});
  gradcheck([](const Inputs& v) { return split_heads(v[0], 3); }, {x});
  Tensor h = random_tensor({2, 3, 4, 2}, 27);
  gradcheck([](const Inputs& v) { return merge_heads(v[0]); }, {h});
}

TEST(Gradcheck, DropoutWithAFixedStream) {
  Tensor x = random_tensor({4, 9}, 28);
  // Each call starts from the same stream state, so every evaluation sees the same mask.
  gradcheck([](const Inputs& v) {
    Rng rng{7, 0};
    return dropout(v[0], 0.3f, rng);
  }, {x});
}

TEST(Gradcheck, FusedLmHeadCrossEntropy) {
  Tensor x = testing::random_tensor({2, 3, 5}, 30), w = testing::random_tensor({7, 5}, 31);
  Ids targets{{2, 3}, {0, 6, -1, 3, 2, 5}};
  testing::gradcheck([&](const std::vector<Tensor>& v) {
    return lm_head_cross_entropy(v[0], v[1], targets);
  }, {x, w});
}

TEST(Fused, LmHeadLossEqualsLinearThenCrossEntropyOverManyChunks) {
  // 2250 rows: three row chunks of 1024, the last one partial.
  Tensor x = testing::random_tensor({3, 750, 16}, 32), w = testing::random_tensor({50, 16}, 33);
  Ids targets{{3, 750}, std::vector<int32_t>(2250)};
  for (int i = 0; i < 2250; i++) targets.data[i] = i % 7 == 0 ? -1 : (i * 13) % 50;
  Tensor fused = lm_head_cross_entropy(x, w, targets);
  tape().backward(scale(fused, 0.5f));
  std::vector<float> gx = x.grad_vector(), gw = w.grad_vector();
  x.zero_grad();
  w.zero_grad();
  Tensor plain = cross_entropy(linear(x, w, Tensor()), targets);
  tape().backward(scale(plain, 0.5f));
  EXPECT_NEAR(fused.data()[0], plain.data()[0], 1e-5);
  for (size_t i = 0; i < gx.size(); i++) ASSERT_NEAR(gx[i], x.grad()[i], 1e-6) << i;
  for (size_t i = 0; i < gw.size(); i++) ASSERT_NEAR(gw[i], w.grad()[i], 1e-6) << i;
}

TEST(Fused, LmHeadLossInOneChunkAccumulatesLikeLinearThenCrossEntropy) {
  // 300 rows, one chunk: backward's products write the gradients, scaled by the incoming one;
  // the second backward adds to what the first left.
  Tensor x = testing::random_tensor({2, 150, 16}, 34), w = testing::random_tensor({50, 16}, 35);
  Ids targets{{2, 150}, std::vector<int32_t>(300)};
  for (int i = 0; i < 300; i++) targets.data[i] = i % 11 == 0 ? -1 : (i * 17) % 50;
  for (int pass = 0; pass < 2; pass++)
    tape().backward(scale(lm_head_cross_entropy(x, w, targets), pass ? 2.0f : 0.5f));
  std::vector<float> gx = x.grad_vector(), gw = w.grad_vector();
  x.zero_grad();
  w.zero_grad();
  for (int pass = 0; pass < 2; pass++)
    tape().backward(scale(cross_entropy(linear(x, w, Tensor()), targets), pass ? 2.0f : 0.5f));
  for (size_t i = 0; i < gx.size(); i++) ASSERT_NEAR(gx[i], x.grad()[i], 1e-6) << i;
  for (size_t i = 0; i < gw.size(); i++) ASSERT_NEAR(gw[i], w.grad()[i], 1e-6) << i;
}

}  // namespace
}  // namespace tg

// GPT modules: names, shapes, parameter counts, initialisation, config errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <algorithm>
#include <set>
#include <vector>

#include <omp.h>

#include "autograd/random.h"
#include "autograd/tape.h"
#include "nn/gpt.h"

namespace tg {
namespace {

GPTConfig tiny() {
  GPTConfig c;
  c.vocab_size = 50;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  return c;
}

TEST(GPT, ParameterNamesAreNanoGPTStateDictKeys) {
  GPT model(tiny());
  std::vector<std::string> names;
  for (auto& [n, _] : model.state_dict()) names.push_back(n);
  std::vector<std::string> expected = {"transformer.wte.weight", "transformer.wpe.weight"};
  for (int i = 0; i < 2; i++) {
    std::string p = "transformer.h." + std::to_string(i) + ".";
    for (const char* s : {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                          "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                          "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
                          "mlp.c_proj.bias"})
      expected.push_back(p + s);
  }
  expected.insert(expected.end(), {"transformer.ln_f.weight", "transformer.ln_f.bias",
                                   "lm_head.weight"});
  EXPECT_EQ(names, expected);
}

TEST(GPT, ShapesFollowTorchConventions) {
  GPT model(tiny());
  const std::vector<std::pair<std::string, Shape>> expected = {
      {"transformer.h.0.attn.c_attn.weight", {48, 16}},  // [out, in], as torch's Linear
      {"transformer.h.0.mlp.c_proj.weight", {16, 64}},
      {"transformer.wpe.weight", {8, 16}},
      {"transformer.wte.weight", {50, 16}}};
  const NamedTensors params = model.named_parameters();
  for (const auto& [name, shape] : expected) {
    auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
    ASSERT_NE(it, params.end()) << name;
    EXPECT_EQ(it->second.shape(), shape) << name;
  }
}

TEST(GPT, Gpt2SmallHas124MParameters) {
  GPTConfig c;  // defaults are GPT-2 small's shape with V = 50304
  c.vocab_size = 50257;
  GPT model(c);
  EXPECT_EQ(model.num_parameters(), 124439808);  // nanoGPT's count, wte counted once
}

TEST(GPT, NoBiasModelHasNoBiasParameters) {
  GPTConfig c = tiny();
  c.bias = false;
  GPT model(c);
  for (auto& [name, _] : model.named_parameters())
    EXPECT_EQ(name.find("bias"), std::string::npos) << name;
}

TEST(GPT, InitFollowsGPT2) {
  GPTConfig c = tiny();
  c.n_embd = 64;
  c.n_layer = 8;
  GPT model(c);
  model.init_weights(42);
  auto stddev = [](const Tensor& t) {
    double s = 0;
    for (int64_t i = 0; i < t.numel(); i++) s += t.data()[i] * t.data()[i];
    return std::sqrt(s / t.numel());
  };
  EXPECT_NEAR(stddev(model.h[0]->mlp.c_fc.weight), 0.02, 0.001);
  EXPECT_NEAR(stddev(model.h[0]->mlp.c_proj.weight), 0.02 / std::sqrt(16.0), 0.0005);
  EXPECT_EQ(model.h[0]->ln_1.weight.data()[0], 1.0f);
  EXPECT_EQ(model.h[0]->attn.c_attn.bias.data()[3], 0.0f);
}

// Threads fill big tensors in parallel; the values must be the one serial stream of draws
// (wte first, then wpe), whatever the thread count.
TEST(GPT, InitIsOneSerialStreamAtAnyThreadCount) {
  GPTConfig c = tiny();
  c.vocab_size = 300;  // wte 300 × 128: big enough to be split between threads
  c.n_embd = 128;
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(1);
  GPT one(c, 9);
  omp_set_num_threads(2);
  GPT two(c, 9);
  omp_set_num_threads(threads_before);
  ASSERT_EQ(one.flat_size(), two.flat_size());
  EXPECT_EQ(std::memcmp(one.flat_values(), two.flat_values(), sizeof(float) * one.flat_size()), 0);
  Rng serial{9, 0};
  const int64_t n = c.vocab_size * c.n_embd + c.block_size * c.n_embd;  // wte, then wpe
  for (int64_t i = 0; i < n; i++)
    ASSERT_EQ(two.flat_values()[i], 0.02f * serial.next_normal()) << "value " << i;
}

TEST(GPT, ForwardShapesAndLossNearLogV) {
  GPT model(tiny());
  Ids x{{2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, y{{2, 5}, {2, 3, 4, 5, 6, 7, 8, 9, 10, -1}};
  GPTOutput out = model.forward(x, &y);
  EXPECT_EQ(out.logits.shape(), (Shape{2, 5, 50}));
  EXPECT_NEAR(out.loss.data()[0], std::log(50.0), 0.1);  // small init: near-uniform output
  tape().backward(out.loss);
  EXPECT_NE(model.h[0]->attn.c_attn.weight.grad()[0], 0.0f);
  // Parameters and their gradients are slices of the model's two flat buffers.
  EXPECT_EQ(model.wte.weight.data(), model.flat_values());
  EXPECT_EQ(model.wte.weight.grad(), model.flat_grads());
}

// dropout acts in training only: two training forwards draw other masks (and differ from the
// model without dropout), two evaluation forwards are the same, and equal that model's.
TEST(GPT, DropoutOnlyWhileTraining) {
  GPTConfig c = tiny();
  c.dropout = 0.5f;
  GPT model(c, 3);
  GPTConfig c0 = tiny();
  GPT plain(c0, 3);  // the same weights, no dropout
  Ids x{{2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
  NoGrad no_grad;
  auto logits = [&](GPT& m) {
    const Tensor l = m.forward(x, nullptr).logits;
    return std::vector<float>(l.data(), l.data() + l.numel());
  };
  const std::vector<float> reference = logits(plain);
  const std::vector<float> train1 = logits(model), train2 = logits(model);
  EXPECT_NE(train1, train2);
  EXPECT_NE(train1, reference);
  model.set_training(false);
  EXPECT_EQ(logits(model), reference);
  EXPECT_EQ(logits(model), reference);
}

// zero_grad only marks the gradients stale: the next step's ops store instead of adding. After
// a step that left garbage in every slice, zero_grad + backward must give exactly the
// gradients of a model whose buffer was really zeroed, accumulate over a second backward, and
// read as 0 for a parameter that no op reached.
// Both loss paths: logits kept (linear + cross_entropy), and the fused lm_head + loss the trainer
// uses, whose store into the tied wte comes before the embedding's scatter-add.
class ZeroGrad : public ::testing::TestWithParam<bool> {};

TEST_P(ZeroGrad, ThenBackwardMatchesARealZeroing) {
  const bool want_logits = GetParam();
  Ids x{{2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, y{{2, 5}, {2, 3, 4, 5, 6, 7, 8, 9, 10, -1}};
  GPT fresh(tiny()), reused(tiny());
  tape().backward(fresh.forward(x, &y, want_logits).loss);  // flat grads start out zeroed
  std::vector<float> expected(fresh.flat_grads(), fresh.flat_grads() + fresh.flat_size());

  std::fill_n(reused.flat_grads(), reused.flat_size(), 123.0f);  // stale values everywhere
  reused.zero_grad();
  reused.h[1]->mlp.c_fc.bias.set_requires_grad(false);  // frozen: no op writes its gradient
  tape().backward(reused.forward(x, &y, want_logits).loss);
  const float* got = reused.flat_grads();
  int64_t at = 0;
  for (auto& [name, t] : reused.named_parameters()) {
    const bool frozen = name == "transformer.h.1.mlp.c_fc.bias";
    for (int64_t i = 0; i < t.numel(); i++)
      ASSERT_EQ(got[at + i], frozen ? 0.0f : expected[at + i]) << name << " element " << i;
    at += t.numel();
  }
  reused.h[1]->mlp.c_fc.bias.set_requires_grad(true);

  reused.zero_grad();
  for (int pass = 0; pass < 2; pass++) tape().backward(reused.forward(x, &y, want_logits).loss);
  got = reused.flat_grads();
  for (int64_t i = 0; i < reused.flat_size(); i++)
    ASSERT_NEAR(got[i], 2.0f * expected[i], 1e-6f * (1.0f + std::fabs(expected[i]))) << i;
}
INSTANTIATE_TEST_SUITE_P(LossPaths, ZeroGrad, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Logits") : std::string("FusedLmHead");
                         });

// wte is both the input embedding and the output head: a row that is an input gets both
// gradients, summed. Checked against a finite difference (which sees both uses) on the element
// where the embedding's share is largest.
TEST(GPT, TiedHeadGetsGradientFromBothUses) {
  GPT model(tiny());
  const int64_t C = 16;
  Ids x{{1, 3}, {1, 2, 3}}, y{{1, 3}, {4, 5, 6}};
  tape().backward(model.forward(x, &y).loss);
  // Row 4 is only a target: its gradient comes from the head alone.
  EXPECT_NE(model.wte.weight.grad()[4 * C], 0.0f);
  // Row 1 is the input at position 0: the embedding's share is the gradient reaching
  // wte(1) + wpe(0), which is also wpe's gradient at row 0.
  const float* d_position0 = model.wpe.weight.grad();
  int64_t c = 0;
  for (int64_t j = 1; j < C; j++)
    if (std::abs(d_position0[j]) > std::abs(d_position0[c])) c = j;
  const float analytic = model.wte.weight.grad()[1 * C + c];
  float* w = model.wte.weight.data() + 1 * C + c;
  const float w0 = *w, eps = 1e-3f;
  auto loss_at = [&](float value) {
    *w = value;
    NoGrad no_grad;
    return static_cast<double>(model.forward(x, &y).loss.data()[0]);
  };
  const double numeric = (loss_at(w0 + eps) - loss_at(w0 - eps)) / (2.0 * eps);
  *w = w0;
  ASSERT_GT(std::abs(d_position0[c]), 0.05 * std::abs(analytic));  // both shares matter here
  EXPECT_NEAR(analytic, numeric, 0.02 * std::abs(numeric) + 1e-4);
  // Without the embedding's share the head's alone would be off by it.
  EXPECT_GT(std::abs(analytic - d_position0[c] - numeric), 0.02 * std::abs(numeric) + 1e-4);
}

TEST(GPTConfig, RefusesConfigsThatCannotWork) {
  auto refuses = [](GPTConfig c, const std::string& word) {
    try {
      GPT model(c);
      ADD_FAILURE() << "accepted a config with bad " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  GPTConfig c = tiny();
  c.n_head = 3;
  refuses(c, "n_head=3");
  c = tiny();
  c.n_layer = 0;
  refuses(c, "n_layer");
  c = tiny();
  c.vocab_size = 0;
  refuses(c, "vocab_size");
  c = tiny();
  c.attn_window = 0;
  refuses(c, "attn_window");
  c = tiny();
  c.attention = "dense,sparse";
  refuses(c, "sparse");
}

TEST(GPT, RefusesBadInputs) {
  GPT model(tiny());
  Ids too_long{{1, 9}, std::vector<int32_t>(9, 1)};
  EXPECT_THROW(model.forward(too_long), std::invalid_argument);
  Ids bad_id{{1, 2}, {1, 50}};
  try {
    model.forward(bad_id);
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_size=50"), std::string::npos);
  }
}

TEST(GPTConfig, AttentionPatternRepeatsOverLayers) {
  GPTConfig c = tiny();
  c.n_layer = 5;
  c.attention = "dense,local";
  c.attn_window = 3;
  GPT model(c);
  EXPECT_EQ(model.h[0]->attn.window, 0);
  EXPECT_EQ(model.h[1]->attn.window, 3);
  EXPECT_EQ(model.h[4]->attn.window, 0);
  // A window past the context is the whole context, even one too big for an int (it wrapped
  // around to 5 before).
  c.attn_window = 4294967301;
  EXPECT_EQ(GPT(c).h[1]->attn.window, c.block_size);
}

// Spellings of one model's pattern are one pattern where shapes are compared (a resumed run's
// options against its checkpoint's): the layers' kinds, cut to the run that repeats.
TEST(GPTConfig, AttentionPatternComparesAsTheLayersReadIt) {
  auto pattern = [](const std::string& attention, int64_t n_layer) {
    GPTConfig c;
    c.attention = attention;
    c.n_layer = n_layer;
    for (auto& [name, value] : c.shape_options())
      if (name == "attention") return value;
    return std::string("?");
  };
  EXPECT_EQ(pattern("dense, local", 4), "dense,local");
  EXPECT_EQ(pattern("dense,local,dense,local", 4), "dense,local");
  EXPECT_EQ(pattern("dense,local,dense", 3), "dense,local");
  EXPECT_EQ(pattern("dense,dense", 2), "dense");
  EXPECT_EQ(pattern("local,dense,dense", 3), "local,dense,dense");
  EXPECT_EQ(pattern("dense,local,local", 2), "dense,local");  // the third word is never read
  EXPECT_EQ(pattern("dense,bogus", 2), "dense,bogus");        // for validate() to name
}

}  // namespace
}  // namespace tg

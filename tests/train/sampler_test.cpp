// Generation: the KV-cached step gives the same logits as a full forward; sampling rules.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/parallel.h"
#include "autograd/tape.h"
#include "tests/train/run_command.h"
#include "train/sampler.h"

namespace tg {
namespace {

GPTConfig config(const std::string& attention) {
  GPTConfig c;
  c.vocab_size = 31;
  c.block_size = 80;
  c.n_layer = 2;
  c.n_head = 3;
  c.n_embd = 24;
  c.attention = attention;
  c.attn_window = 5;
  return c;
}

std::vector<int32_t> random_tokens(int n, uint64_t seed) {  // ids < the config's vocab of 31
  std::vector<int32_t> tokens;
  Rng rng{seed, 0};
  for (int i = 0; i < n; i++) tokens.push_back(static_cast<int32_t>(rng.next_bits() % 31));
  return tokens;
}

Tensor full_forward_logits(GPT& model, const std::vector<int32_t>& tokens) {  // [1, n, V]
  NoGrad no_grad;
  return model.forward(Ids{{1, static_cast<int64_t>(tokens.size())}, tokens}).logits;
}

TEST(KVCache, StepLogitsEqualFullRecompute) {
  for (const char* attention : {"dense", "dense,local"}) {
    GPT model(config(attention));
    model.init_weights(3);
    const std::vector<int32_t> tokens = random_tokens(70, 9);
    Tensor full = full_forward_logits(model, tokens);
    KVCache cache = model.new_kv_cache();
    for (int t = 0; t < 70; t++) {
      Tensor step = model.forward_step(tokens[t], cache);
      for (int v = 0; v < 31; v++)
        ASSERT_NEAR(step.data()[v], full.data()[t * 31 + v], 2e-5)
            << attention << " position " << t << " token " << v;
    }
  }
}

// Encoding many positions at once (a prompt; more than KVCache::kMaxRows of them) leaves the
// same cache and logits as the full forward, and generation can go on from it.
TEST(KVCache, PromptInOneCallEqualsFullRecompute) {
  for (const char* attention : {"dense", "dense,local"}) {
    GPT model(config(attention));
    model.init_weights(5);
    const std::vector<int32_t> tokens = random_tokens(75, 11);
    Tensor full = full_forward_logits(model, tokens);
    KVCache cache = model.new_kv_cache();
    const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + 70);
    Tensor last = model.forward_tokens(prompt, cache);
    EXPECT_EQ(cache.length, 70);
    for (int v = 0; v < 31; v++) ASSERT_NEAR(last.data()[v], full.data()[69 * 31 + v], 2e-5) << attention;
    for (int t = 70; t < 75; t++) {
      Tensor step = model.forward_step(tokens[t], cache);
      for (int v = 0; v < 31; v++)
        ASSERT_NEAR(step.data()[v], full.data()[t * 31 + v], 2e-5) << attention << " position " << t;
    }
    EXPECT_THROW(model.forward_tokens(std::vector<int32_t>(6, 0), cache), std::invalid_argument);
    EXPECT_THROW(model.forward_step(31, cache), std::out_of_range);
  }
}

// A model this small runs its tokens on one thread (SerialScope): the caller's thread count
// is back when forward_tokens returns, and a scope that is not enabled changes nothing.
TEST(KVCache, GivesBackTheThreadCountItFound) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  {
    SerialScope serial(true);
    EXPECT_EQ(omp_get_max_threads(), 1);
    SerialScope not_enabled(false);
    EXPECT_EQ(omp_get_max_threads(), 1);
  }
  EXPECT_EQ(omp_get_max_threads(), 2);
  GPT model(config("dense"));
  KVCache cache = model.new_kv_cache();
  model.forward_tokens(random_tokens(20, 3), cache);
  model.forward_step(4, cache);
  EXPECT_EQ(omp_get_max_threads(), 2);
  omp_set_num_threads(saved);
}

// A cache the model did not make (empty, or another model's) is refused, not written past.
TEST(KVCache, ForeignCacheIsRefused) {
  GPT model(config("dense"));
  KVCache empty;
  EXPECT_THROW(model.forward_step(1, empty), std::invalid_argument);
  GPTConfig smaller = config("dense");
  smaller.block_size = 8;
  KVCache other = GPT(smaller).new_kv_cache();
  EXPECT_THROW(model.forward_step(1, other), std::invalid_argument);
}

// Without top-k / top-p the token is drawn straight from the softmax: frequencies follow it.
TEST(Sampling, WholeVocabularyFollowsSoftmax) {
  const float logits[3] = {0.0f, std::log(2.0f), std::log(5.0f)};  // p = 1/8, 2/8, 5/8
  Rng rng{3, 0};
  SampleOptions o;
  int counts[3] = {};
  const int n = 40000;
  for (int i = 0; i < n; i++) counts[sample_token(logits, 3, o, rng)]++;
  EXPECT_NEAR(counts[0] / double(n), 0.125, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 0.25, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.625, 0.01);
  o.temperature = 0.5f;  // p ∝ 1, 4, 25
  int hot = 0;
  for (int i = 0; i < n; i++) hot += sample_token(logits, 3, o, rng) == 2;
  EXPECT_NEAR(hot / double(n), 25.0 / 30.0, 0.01);
}

TEST(Sampling, NonFiniteLogits) {
  Rng rng{2, 0};
  SampleOptions o;
  const float with_inf[3] = {0.0f, std::numeric_limits<float>::infinity(), 1.0f};
  EXPECT_EQ(sample_token(with_inf, 3, o, rng), 1);
  const float with_nan[3] = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  EXPECT_THROW(sample_token(with_nan, 3, o, rng), std::runtime_error);
}

TEST(Sampling, GreedyTopKTopP) {
  const float logits[5] = {0.0f, 3.0f, 1.0f, 2.9f, -1.0f};
  Rng rng{1, 0};
  SampleOptions greedy;
  greedy.temperature = 0.0f;
  EXPECT_EQ(sample_token(logits, 5, greedy, rng), 1);
  SampleOptions top2;
  top2.top_k = 2;
  for (int i = 0; i < 200; i++) {
    int32_t t = sample_token(logits, 5, top2, rng);
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
  SampleOptions nucleus;
  nucleus.top_p = 0.01f;  // only the single most likely token survives
  for (int i = 0; i < 50; i++) EXPECT_EQ(sample_token(logits, 5, nucleus, rng), 1);
}

// The kept tokens are drawn in proportion to their probabilities, renormalised: top_k 2 of the
// logits above keeps 1 and 3 at odds e^0.1 : 1; probabilities 0.5, 0.3, 0.2 cut at top_p 0.7
// keep the first two at 5/8 and 3/8 (the nucleus: the smallest set reaching p).
TEST(Sampling, KeptTokensAreDrawnInProportion) {
  const int draws = 40000;
  auto counts = [&](const float* logits, int V, const SampleOptions& o) {
    std::vector<int> n(V, 0);
    Rng rng{2, 0};
    for (int i = 0; i < draws; i++) n[sample_token(logits, V, o, rng)]++;
    return n;
  };
  const float logits[5] = {0.0f, 3.0f, 1.0f, 2.9f, -1.0f};
  SampleOptions top2;
  top2.top_k = 2;
  std::vector<int> n = counts(logits, 5, top2);
  const double p1 = 1.0 / (1.0 + std::exp(-0.1));  // 0.525
  EXPECT_EQ(n[0] + n[2] + n[4], 0);
  EXPECT_NEAR(n[1] / static_cast<double>(draws), p1, 5 * std::sqrt(p1 * (1 - p1) / draws));
  const float three[3] = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SampleOptions nucleus;
  nucleus.top_p = 0.7f;
  n = counts(three, 3, nucleus);
  EXPECT_EQ(n[2], 0);
  EXPECT_NEAR(n[0] / static_cast<double>(draws), 0.625, 5 * std::sqrt(0.625 * 0.375 / draws));
}

TEST(Generate, SameSeedSameTokensAndStopToken) {
  GPT model(config("dense"));
  model.init_weights(4);
  SampleOptions o;
  o.max_new_tokens = 150;  // past block_size: exercises the cache rebuild
  auto a = generate(model, {1, 2, 3}, o), b = generate(model, {1, 2, 3}, o);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 150u);
  o.seed = 99;
  EXPECT_NE(generate(model, {1, 2, 3}, o), a);
  o.seed = SampleOptions{}.seed;  // a's seed
  o.stop_token = a[5];
  auto stopped = generate(model, {1, 2, 3}, o);
  EXPECT_LE(stopped.size(), 6u);
  EXPECT_EQ(stopped.back(), a[5]);
}

// Past block_size, generation goes on from the newest ⌈T/2⌉ tokens (the KV cache rebuilt from
// them): greedy tokens equal the argmax of a full forward over that same cropped context, step
// by step, across two rebuilds. (A near tie, which rounding could break either way, ends the
// comparison; the weights are scaled up so that ties are rare.)
TEST(Generate, GoesOnFromTheNewestHalfPastBlockSize) {
  GPT model(config("dense,local"));
  model.init_weights(8);
  for (float* w = model.flat_values(), *end = w + model.flat_size(); w < end; w++) *w *= 8.0f;
  model.set_training(false);
  const int64_t T = model.config().block_size;
  const std::vector<int32_t> prompt = random_tokens(10, 3);
  SampleOptions greedy;
  greedy.temperature = 0.0f;
  greedy.max_new_tokens = 2 * T;
  const std::vector<int32_t> produced = generate(model, prompt, greedy);
  ASSERT_EQ(produced.size(), static_cast<size_t>(2 * T));
  std::vector<int32_t> context = prompt;
  int64_t compared = 0, rebuilds = 0;
  for (int32_t token : produced) {
    const Tensor logits = full_forward_logits(model, context);
    const float* last = logits.data() + (context.size() - 1) * 31;
    int best = 0, second = -1;
    for (int v = 1; v < 31; v++) {
      if (last[v] > last[best]) {
        second = best;
        best = v;
      } else if (second < 0 || last[v] > last[second]) {
        second = v;
      }
    }
    if (last[best] - last[second] < 1e-3f) break;
    ASSERT_EQ(token, best) << "token " << compared;
    compared++;
    context.push_back(token);
    if (static_cast<int64_t>(context.size()) == T + 1) {  // full: the newest half goes on
      context.erase(context.begin(), context.end() - (T + 1) / 2);
      rebuilds++;
    }
  }
  EXPECT_GE(rebuilds, 2) << "compared " << compared << " tokens";
}

// A vocabulary padded past the tokenizer (nanoGPT's 50304 for GPT-2's 50257 tokens): ids past
// the tokenizer were never targets but still get logits; generation must not draw them.
TEST(Generate, NeverDrawsIdsPastTheTokenizer) {
  GPT model(config("dense"));
  model.init_weights(6);
  const int64_t V = model.config().vocab_size, limit = V / 4;
  SampleOptions o;
  o.max_new_tokens = 300;
  o.temperature = 2.0f;  // flat: without the limit, most draws would land past it
  const std::vector<int32_t> unlimited = generate(model, {1, 2, 3}, o);
  EXPECT_TRUE(std::any_of(unlimited.begin(), unlimited.end(), [&](int32_t t) { return t >= limit; }));
  o.vocab_limit = limit;
  for (int32_t t : generate(model, {1, 2, 3}, o)) ASSERT_LT(t, limit);
}

TEST(Generate, LongPromptIsCroppedToItsLastBlockSizeTokens) {
  GPT model(config("dense"));  // block_size 80
  model.init_weights(5);
  std::vector<int32_t> prompt(100);
  for (int i = 0; i < 100; i++) prompt[i] = i % 31;
  std::vector<int32_t> tail(prompt.end() - 80, prompt.end());
  SampleOptions o;
  o.max_new_tokens = 10;
  EXPECT_EQ(generate(model, prompt, o), generate(model, tail, o));
}

// A generated token allocates nothing: the bench counts malloc and new from the first token to
// the end of each run (the token lists have their room before it). Sampling from the whole
// vocabulary, and from the top k or top p (which rank candidates).
class GenerateAllocations : public ::testing::TestWithParam<const char*> {};

TEST_P(GenerateAllocations, NoHeapAllocationPerToken) {
  const auto r = tg::testing::run_command(
      std::string(TAPEGPT_BINARY) +
      " bench --json --mode generate --steps 2 --warmup 1 --n_layer 2 --n_head 2 --n_embd 32"
      " --block_size 512 --vocab_size 100 --gen_tokens 400 " + GetParam());
  ASSERT_EQ(r.status, 0) << r.output;
  const double per_token = tg::testing::json_number(r.output, "heap_allocations_per_token");
  if (per_token < 0) GTEST_SKIP() << "this build does not count allocations";
  EXPECT_EQ(per_token, 0.0) << r.output;
}
INSTANTIATE_TEST_SUITE_P(Sampling, GenerateAllocations,
                         ::testing::Values("--top_k 0", "--top_k 40", "--top_p 0.9"));

}  // namespace
}  // namespace tg

// The learning-rate schedule, against nanoGPT's get_lr worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "train/train_config.h"

namespace tg {
namespace {

TrainConfig schedule(int64_t warmup, int64_t decay_iters, int64_t max_iters) {
  TrainConfig c;
  c.learning_rate = 1e-3f;
  c.min_lr = 1e-4f;
  c.warmup_iters = warmup;
  c.lr_decay_iters = decay_iters;
  c.max_iters = max_iters;
  return c;
}

TEST(LearningRate, WarmsUpThenFollowsTheCosineToMinLr) {
  const TrainConfig c = schedule(10, 110, 200);
  // Linear warm-up: (it + 1) / (warmup + 1) of the rate.
  EXPECT_FLOAT_EQ(learning_rate_at(c, 0), 1e-3f / 11);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 9), 1e-3f * 10 / 11);
  // Cosine from the full rate at the end of warm-up to min_lr at lr_decay_iters ...
  EXPECT_FLOAT_EQ(learning_rate_at(c, 10), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 60), 0.5f * (1e-3f + 1e-4f));  // halfway
  EXPECT_NEAR(learning_rate_at(c, 35), 1e-4 + 0.5 * (1 + std::cos(M_PI * 0.25)) * 9e-4, 1e-9);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 110), 1e-4f);
  // ... and min_lr after it.
  EXPECT_FLOAT_EQ(learning_rate_at(c, 111), 1e-4f);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 199), 1e-4f);
}

TEST(LearningRate, DecayItersZeroMeansMaxItersAndDecayCanBeOff) {
  TrainConfig c = schedule(0, 0, 100);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 0), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 50), 0.5f * (1e-3f + 1e-4f));
  EXPECT_FLOAT_EQ(learning_rate_at(c, 100), 1e-4f);
  c.decay_lr = false;
  for (int64_t it : {0, 50, 99}) EXPECT_EQ(learning_rate_at(c, it), 1e-3f);
}

TEST(LearningRate, AMinLrAboveTheRateIsRefused) {
  TrainConfig c = schedule(0, 0, 100);
  c.min_lr = 2e-3f;
  EXPECT_THROW(validate(c), std::invalid_argument);
  c.decay_lr = false;  // a constant rate never reaches min_lr
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace tg

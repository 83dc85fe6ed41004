#include "train/train_config.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace tg {

void require_at_least(const std::string& name, int64_t value, int64_t lo) {
  if (value < lo)
    throw std::invalid_argument(name + " must be at least " + std::to_string(lo) + ", got " +
                                std::to_string(value));
}

void validate(const TrainConfig& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  const auto at_least = require_at_least;
  auto in_range = [&](const char* name, float v, float lo, float hi, const char* range) {
    if (!(v >= lo && v <= hi)) fail(std::string(name) + " must be in " + range + ", got " +
                                    std::to_string(v));
  };
  constexpr float kHuge = 3.4e38f;
  at_least("batch_size", c.batch_size, 1);
  at_least("gradient_accumulation_steps", c.gradient_accumulation_steps, 1);
  at_least("max_iters", c.max_iters, 1);
  at_least("warmup_iters", c.warmup_iters, 0);
  at_least("lr_decay_iters", c.lr_decay_iters, 0);
  at_least("eval_interval", c.eval_interval, 1);
  at_least("eval_iters", c.eval_iters, 0);  // 0: every validation batch
  at_least("log_interval", c.log_interval, 1);
  at_least("keep_last", c.keep_last, 1);
  at_least("stride", c.stride, 1);
  at_least("freeze_layers", c.freeze_layers, 0);
  in_range("learning_rate", c.learning_rate, 0.0f, kHuge, "[0, inf)");
  in_range("min_lr", c.min_lr, 0.0f, kHuge, "[0, inf)");
  in_range("weight_decay", c.weight_decay, 0.0f, kHuge, "[0, inf)");
  in_range("beta1", c.beta1, 0.0f, std::nextafter(1.0f, 0.0f), "[0, 1)");
  in_range("beta2", c.beta2, 0.0f, std::nextafter(1.0f, 0.0f), "[0, 1)");
  in_range("grad_clip", c.grad_clip, 0.0f, kHuge, "[0, inf) (0: off)");
  // The cosine "decay" would raise the rate over the run.
  if (c.decay_lr && c.min_lr > c.learning_rate) {
    char what[160];  // %g: 1e-07, not to_string's 0.000000
    std::snprintf(what, sizeof what, "min_lr=%g is above learning_rate=%g", c.min_lr, c.learning_rate);
    fail(std::string(what) + ": the decay would raise the learning rate (lower min_lr, or decay_lr = false)");
  }
  if (!c.dataset.empty() && !c.pairs.empty())
    fail("give `dataset` or `pairs`, not both (" + c.dataset + ", " + c.pairs + ")");
  // Options of the other kind of data are refused, not ignored: the user expected them to matter.
  if (!c.pairs.empty() && c.stride != 1)
    fail("stride=" + std::to_string(c.stride) + " is for a prepared dataset's sliding window; " +
         "pairs (" + c.pairs + ") are one example each");
  if (c.pack_pairs && c.pairs.empty()) fail("pack_pairs needs `pairs` (it packs pairs into rows)");
  if (!c.val_pairs.empty() && c.pairs.empty())
    fail("val_pairs (" + c.val_pairs + ") needs `pairs`: a prepared dataset has its own val.bin");
}

float learning_rate_at(const TrainConfig& c, int64_t it) {
  if (!c.decay_lr) return c.learning_rate;
  const int64_t decay_iters = c.lr_decay_iters > 0 ? c.lr_decay_iters : c.max_iters;
  if (it < c.warmup_iters)
    return c.learning_rate * static_cast<float>(it + 1) / static_cast<float>(c.warmup_iters + 1);
  if (it > decay_iters) return c.min_lr;
  const double ratio = static_cast<double>(it - c.warmup_iters) /
                       static_cast<double>(std::max<int64_t>(1, decay_iters - c.warmup_iters));
  const double coeff = 0.5 * (1.0 + std::cos(M_PI * ratio));
  return static_cast<float>(c.min_lr + coeff * (c.learning_rate - c.min_lr));
}

}  // namespace tg

#include "train/train_config.h"

#include <cmath>

namespace tg {

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

#include "autograd/random.h"

#include <cmath>

namespace tg {

float Rng::normal_at(uint64_t i) const {
  // u1 in (0, 1] so the log is finite.
  const float u1 = 1.0f - uniform_at(2 * i);
  const float u2 = uniform_at(2 * i + 1);
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647692f * u2);
}

}  // namespace tg

#include "autograd/random.h"

#include <cmath>

namespace tg {

float Rng::next_normal() {
  // Box-Muller; u1 in (0, 1] so the log is finite.
  float u1 = 1.0f - next_uniform();
  float u2 = next_uniform();
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647692f * u2);
}

}  // namespace tg

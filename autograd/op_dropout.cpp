// dropout (inverted, as torch): keep each element with probability 1−p and scale it by 1/(1−p).
//   backward  dx += dy ⊙ mask / (1−p)
// The mask comes from the counter-based Rng, so it is the same for any thread count, and the
// generator's state (seed, offset) is all a checkpoint needs to replay it.
#include <stdexcept>
#include <string>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

Tensor dropout(const Tensor& x, float p, Rng& rng) {
  ProfileScope forward_scope("dropout.forward");
  if (p < 0.0f || p >= 1.0f)
    throw std::invalid_argument("dropout: p must be in [0, 1), got " + std::to_string(p));
  if (p == 0.0f) return x;
  const int64_t n = x.numel();
  const float keep_scale = 1.0f / (1.0f - p);
  Tensor mask = Tensor::empty(x.shape());  // 0 or 1/(1−p)
  Tensor y = Tensor::empty(x.shape(), needs_grad({&x}));
  const float* X = x.data();
  float *Y = y.data(), *Mk = mask.data();
  const Rng stream = rng;
  parallel_for(n, n > kParallelMinWork, [&](int64_t i) {
    Mk[i] = stream.uniform_at(static_cast<uint64_t>(i)) < p ? 0.0f : keep_scale;
    Y[i] = X[i] * Mk[i];
  });
  rng.advance(static_cast<uint64_t>(n));
  if (y.requires_grad())
    tape().record([x, y, mask, n]() {
      ProfileScope backward_scope("dropout.backward");
      const float *dY = y.grad(), *Mk = mask.data();
      float* dX = x.grad();
      parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dX[i] += dY[i] * Mk[i]; });
    });
  return y;
}

}  // namespace tg

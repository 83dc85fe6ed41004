// gelu, tanh approximation (GPT-2's, and torch's GELU(approximate="tanh")):
//   y = 0.5·x·(1 + tanh(u)),  u = sqrt(2/π)·(x + 0.044715·x³)
//   dy/dx = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·sqrt(2/π)·(1 + 3·0.044715·x²)
#include <cmath>

#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {
namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
}  // namespace

Tensor gelu(const Tensor& x) {
  const int64_t n = x.numel();
  Tensor y = Tensor::empty(x.shape(), needs_grad({&x}));
  const float* X = x.data();
  float* Y = y.data();
#pragma omp parallel for simd if (n > kParallelMinWork)
  for (int64_t i = 0; i < n; i++) {
    float v = X[i];
    float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    Y[i] = 0.5f * v * (1.0f + std::tanh(u));
  }
  if (y.requires_grad()) {
    tape().record([x, y, n]() {
      const float* X = x.data();
      const float* dY = y.grad();
      float* dX = x.grad();
#pragma omp parallel for simd if (n > kParallelMinWork)
      for (int64_t i = 0; i < n; i++) {
        float v = X[i];
        float u = kSqrt2OverPi * (v + kCubic * v * v * v);
        float th = std::tanh(u);
        float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
        dX[i] += dY[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du);
      }
    });
  }
  return y;
}

}  // namespace tg

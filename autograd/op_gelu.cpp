// gelu, tanh approximation (GPT-2's, and torch's GELU(approximate="tanh")):
//   y = 0.5·x·(1 + tanh(u)),  u = sqrt(2/π)·(x + 0.044715·x³)
//   dy/dx = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·sqrt(2/π)·(1 + 3·0.044715·x²)
// tanh goes through Eigen's vectorised array tanh: libm's scalar tanhf made GELU a third of a
// small model's training step.
#include <Eigen/Core>
#include <algorithm>

#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {
namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr int64_t kChunk = 4096;  // elements per parallel work item (fits in L1 with its temporaries)

// A chunk's temporaries live on the stack (at most kChunk floats): no heap allocation per chunk.
using Array = Eigen::Array<float, Eigen::Dynamic, 1, Eigen::ColMajor, kChunk, 1>;
using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// Calls f(begin, count) over [0, n) in chunks, in parallel when n is large.
template <typename F>
void for_chunks(int64_t n, F f) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, n > kParallelMinWork,
               [&](int64_t c) { f(c * kChunk, std::min(kChunk, n - c * kChunk)); });
}
}  // namespace

void gelu_values(const float* X, int64_t n, float* Y) {
  for_chunks(n, [&](int64_t at, int64_t count) {
    ConstArrayMap v(X + at, count);
    ArrayMap out(Y + at, count);
    out = 0.5f * v * (1.0f + (kSqrt2OverPi * (v + kCubic * v.cube())).tanh());
  });
}

Tensor gelu(const Tensor& x) {
  ProfileScope forward_scope("gelu.forward");
  const int64_t n = x.numel();
  Tensor y = Tensor::empty(x.shape(), needs_grad({&x}));
  gelu_values(x.data(), n, y.data());
  if (y.requires_grad()) {
    tape().record([x, y, n]() {
      ProfileScope backward_scope("gelu.backward");
      const float *X = x.data(), *dY = y.grad();
      bool fresh = false;
      float* dX = x.grad_for_overwrite(&fresh);
      for_chunks(n, [&](int64_t at, int64_t count) {
        ConstArrayMap v(X + at, count), dy(dY + at, count);
        ArrayMap dx(dX + at, count);
        Array th = (kSqrt2OverPi * (v + kCubic * v.cube())).tanh();
        // A lazy expression on purpose, evaluated once by the assignment below; it refers only
        // to the maps and the named th, which outlive it.
        auto d = dy * (0.5f * (1.0f + th) +
                       0.5f * v * (1.0f - th.square()) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v.square()));
        if (fresh)
          dx = d;
        else
          dx += d;
      });
    });
  }
  return y;
}

}  // namespace tg

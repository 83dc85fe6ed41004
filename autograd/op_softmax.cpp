// softmax over the last dim:  y = exp(x − max) / Σ exp(x − max)
//   backward  dx += y ⊙ (dy − Σ dy⊙y)     (the Jacobian-vector product of softmax, per row)
#include <cmath>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

Tensor softmax(const Tensor& x) {
  ProfileScope forward_scope("softmax.forward");
  const int64_t C = x.size(-1), rows = rows_of(x, "softmax");
  Tensor y = Tensor::empty(x.shape(), needs_grad({&x}));
  const float* X = x.data();
  float* Y = y.data();
  parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
    const float* xr = X + r * C;
    float* yr = Y + r * C;
    float mx = xr[0];
    for (int64_t c = 1; c < C; c++) mx = std::max(mx, xr[c]);
    float total = 0.0f;
    for (int64_t c = 0; c < C; c++) total += (yr[c] = std::exp(xr[c] - mx));
    for (int64_t c = 0; c < C; c++) yr[c] /= total;
  });
  if (y.requires_grad()) {
    tape().record([x, y, rows, C]() {
      ProfileScope backward_scope("softmax.backward");
      const float *Y = y.data(), *dY = y.grad();
      float* dX = x.grad();
      parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
        const float *yr = Y + r * C, *dyr = dY + r * C;
        float dot = 0.0f;
        for (int64_t c = 0; c < C; c++) dot += dyr[c] * yr[c];
        for (int64_t c = 0; c < C; c++) dX[r * C + c] += yr[c] * (dyr[c] - dot);
      });
    });
  }
  return y;
}

}  // namespace tg

// layer_norm over the last dim (C), as torch.nn.LayerNorm:
//   forward   x̂ = (x − mean)·rstd,  rstd = 1/sqrt(var + eps) (biased var),  y = x̂·w + b
//   backward  with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//             dw += Σ_rows dy·x̂,  db += Σ_rows dy
// Forward saves per-row mean and rstd ([rows] each) so backward needs no second pass for them.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

void layer_norm_rows(const float* X, int64_t rows, int64_t C, const float* W, const float* Bv,
                     float eps, float* Y, float* M, float* R) {
  parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
    const float* xr = X + r * C;
    float m = 0.0f;
    for (int64_t c = 0; c < C; c++) m += xr[c];
    m /= C;
    float v = 0.0f;
    for (int64_t c = 0; c < C; c++) v += (xr[c] - m) * (xr[c] - m);
    v /= C;
    float s = 1.0f / std::sqrt(v + eps);
    if (M) M[r] = m;
    if (R) R[r] = s;
    float* yr = Y + r * C;
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - m) * s * W[c] + (Bv ? Bv[c] : 0.0f);
  });
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  ProfileScope forward_scope("layer_norm.forward");
  const int64_t C = x.size(-1);
  const int64_t rows = x.numel() / C;
  check_shape(weight, {C}, "layer_norm weight");
  if (bias.defined()) check_shape(bias, {C}, "layer_norm bias");
  Tensor y = Tensor::empty(x.shape(), needs_grad({&x, &weight, &bias}));
  Tensor mean = Tensor::empty({rows}), rstd = Tensor::empty({rows});
  layer_norm_rows(x.data(), rows, C, weight.data(), bias.defined() ? bias.data() : nullptr, eps,
                  y.data(), mean.data(), rstd.data());
  if (y.requires_grad()) {
    tape().record([x, weight, bias, y, mean, rstd, rows, C]() {
      ProfileScope backward_scope("layer_norm.backward");
      const float *X = x.data(), *W = weight.data(), *dY = y.grad();
      const float *M = mean.data(), *R = rstd.data();
      if (x.requires_grad()) {
        bool fresh = false;
        float* dX = x.grad_for_overwrite(&fresh);
        parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
          const float *xr = X + r * C, *dyr = dY + r * C;
          float mean_g = 0.0f, mean_gx = 0.0f;
          for (int64_t c = 0; c < C; c++) {
            float g = dyr[c] * W[c];
            mean_g += g;
            mean_gx += g * (xr[c] - M[r]) * R[r];
          }
          mean_g /= C;
          mean_gx /= C;
          float* dxr = dX + r * C;
          for (int64_t c = 0; c < C; c++) {
            float xhat = (xr[c] - M[r]) * R[r];
            const float d = R[r] * (dyr[c] * W[c] - mean_g - xhat * mean_gx);
            dxr[c] = fresh ? d : dxr[c] + d;
          }
        });
      }
      // Parameter gradients: sums over rows (column blocks per thread: no races, fixed order).
      if (weight.requires_grad())
        add_column_sums(rows, C, weight.grad(), [X, dY, M, R, C](int64_t r, int64_t c) {
          return dY[r * C + c] * (X[r * C + c] - M[r]) * R[r];
        });
      if (bias.defined() && bias.requires_grad())
        add_column_sums(rows, C, bias.grad(), [dY, C](int64_t r, int64_t c) { return dY[r * C + c]; });
    });
  }
  return y;
}

}  // namespace tg

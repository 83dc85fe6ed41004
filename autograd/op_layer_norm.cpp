// layer_norm over the last dim (C), as torch.nn.LayerNorm:
//   forward   x̂ = (x − mean)·rstd,  rstd = 1/sqrt(var + eps) (biased var),  y = x̂·w + b
//   backward  with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//             dw += Σ_rows dy·x̂,  db += Σ_rows dy
// Forward saves per-row mean and rstd ([rows] each) so backward needs no second pass for them.
// Rows are Eigen arrays so that the sums vectorise: a plain float loop must add in order, one
// element at a time, and LayerNorm took 2 ns per element.
#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {
namespace {
using Row = Eigen::Map<const Eigen::ArrayXf>;
}  // namespace

void layer_norm_rows(const float* X, int64_t rows, int64_t C, const float* W, const float* Bv,
                     float eps, float* Y, float* M, float* R) {
  parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
    const Row x(X + r * C, C), w(W, C);
    const float m = x.sum() / C;
    const float s = 1.0f / std::sqrt((x - m).square().sum() / C + eps);
    if (M) M[r] = m;
    if (R) R[r] = s;
    Eigen::Map<Eigen::ArrayXf> y(Y + r * C, C);
    if (Bv)
      y = (x - m) * s * w + Row(Bv, C);
    else
      y = (x - m) * s * w;
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
          const Row x(X + r * C, C), dy(dY + r * C, C), w(W, C);
          const auto xhat = (x - M[r]) * R[r];
          const auto g = dy * w;
          const float mean_g = g.sum() / C, mean_gx = (g * xhat).sum() / C;
          const auto d = R[r] * (g - mean_g - xhat * mean_gx);
          Eigen::Map<Eigen::ArrayXf> dx(dX + r * C, C);
          if (fresh)
            dx = d;
          else
            dx += d;
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

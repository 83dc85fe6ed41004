// layer_norm over the last dim (C), as torch.nn.LayerNorm:
//   forward   x̂ = (x − mean)·rstd,  rstd = 1/sqrt(var + eps) (biased var),  y = x̂·w + b
//   backward  with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//             dw += Σ_rows dy·x̂,  db += Σ_rows dy
// Forward saves per-row mean and rstd ([rows] each) so backward needs no second pass for them.
// The row sums keep eight partial sums so that they vectorise: a plain float loop must add in
// order, one element at a time, and LayerNorm took 2 ns per element. (GCC still added the
// eight one by one until told `omp simd`: baby's LayerNorm 2.9 → 1.5 ms per step, 1 thread.)
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

// Σ term(c) for c < n, in eight interleaved partial sums (one AVX register) added in a fixed
// order. Eigen's sum() would vectorise too, but it starts at the row's first aligned element,
// so a row's statistics would depend on its address, and the KV-cached path and training
// normalise the same row at different addresses.
template <typename Term>
float row_sum(int64_t n, Term term) {
  float part[8] = {};
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
#pragma omp simd
    for (int j = 0; j < 8; j++) part[j] += term(c + j);
  }
  for (int j = 0; c + j < n; j++) part[j] += term(c + j);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}
}  // namespace

void layer_norm_rows(const float* X, int64_t rows, int64_t C, const float* W, const float* Bv,
                     float eps, float* Y, float* M, float* R) {
  parallel_for(rows, rows * C > kParallelMinWork, [&](int64_t r) {
    const float* xr = X + r * C;
    const float m = row_sum(C, [xr](int64_t c) { return xr[c]; }) / C;
    const float var = row_sum(C, [xr, m](int64_t c) { return (xr[c] - m) * (xr[c] - m); }) / C;
    const float s = 1.0f / std::sqrt(var + eps);
    const Row x(xr, C), w(W, C);
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
  const int64_t rows = rows_of(x, "layer_norm");
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
          const float *xr = X + r * C, *dyr = dY + r * C, m = M[r], s = R[r];
          const float mean_g = row_sum(C, [dyr, W](int64_t c) { return dyr[c] * W[c]; }) / C;
          const float mean_gx =
              row_sum(C, [=](int64_t c) { return dyr[c] * W[c] * (xr[c] - m) * s; }) / C;
          const Row x(xr, C), dy(dyr, C), w(W, C);
          // Lazy expressions on purpose, fused into one loop by the assignment below; they refer
          // only to the maps and scalars above, which outlive them.
          const auto xhat = (x - m) * s;
          const auto g = dy * w;
          const auto d = s * (g - mean_g - xhat * mean_gx);
          Eigen::Map<Eigen::ArrayXf> dx(dX + r * C, C);
          if (fresh)
            dx = d;
          else
            dx += d;
        });
      }
      // Parameter gradients: sums over rows (column blocks per thread: no races, fixed order).
      bool fresh = false;
      if (weight.requires_grad()) {
        float* dW = weight.grad_for_overwrite(&fresh);
        column_sums(rows, C, dW, !fresh, [X, dY, M, R, C](int64_t r, int64_t c) {
          return dY[r * C + c] * (X[r * C + c] - M[r]) * R[r];
        });
      }
      if (bias.defined() && bias.requires_grad()) {
        float* db = bias.grad_for_overwrite(&fresh);
        column_sums(rows, C, db, !fresh, [dY, C](int64_t r, int64_t c) { return dY[r * C + c]; });
      }
    });
  }
  return y;
}

}  // namespace tg

// add, mul, scale, sum: the small element-wise ops, each with its backward right below.
#include <stdexcept>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

// add: a [..., *S] + b [*S]  (b == a's shape, or a trailing part of it: a broadcast bias)
//   backward  da += dy,  db += dy summed over the broadcast rows
Tensor add(const Tensor& a, const Tensor& b) {
  ProfileScope forward_scope("add.forward");
  const int64_t n = a.numel(), m = b.numel();
  bool trailing = b.ndim() <= a.ndim() &&
                  std::equal(b.shape().begin(), b.shape().end(), a.shape().end() - b.ndim());
  if (!trailing || m == 0)
    throw std::invalid_argument("add: cannot broadcast " + shape_str(b.shape()) + " onto " +
                                shape_str(a.shape()));
  Tensor y = Tensor::empty(a.shape(), needs_grad({&a, &b}));
  const float *A = a.data(), *Bv = b.data();
  float* Y = y.data();
  if (m == n) {
    parallel_for(n, n > kParallelMinWork, [&](int64_t i) { Y[i] = A[i] + Bv[i]; });
  } else {  // row by row: an index i % m cost a division per element and kept the loop scalar
    parallel_for(n / m, n > kParallelMinWork, [&](int64_t r) {
      const float* __restrict a_row = A + r * m;
      float* __restrict y_row = Y + r * m;
      for (int64_t c = 0; c < m; c++) y_row[c] = a_row[c] + Bv[c];
    });
  }
  if (y.requires_grad()) {
    tape().record([a, b, y, n, m]() {
      ProfileScope backward_scope("add.backward");
      const float* dY = y.grad();
      if (a.requires_grad()) {
        float* dA = a.grad();
        parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dA[i] += dY[i]; });
      }
      if (b.requires_grad()) {  // b was added to each of the n/m rows: sum the rows
        column_sums(n / m, m, b.grad(), true,
                    [dY, m](int64_t r, int64_t c) { return dY[r * m + c]; });
      }
    });
  }
  return y;
}

// mul: y = a ⊙ b   backward  da += dy ⊙ b,  db += dy ⊙ a
Tensor mul(const Tensor& a, const Tensor& b) {
  ProfileScope forward_scope("mul.forward");
  if (a.shape() != b.shape())
    throw std::invalid_argument("mul: shapes differ: " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()));
  const int64_t n = a.numel();
  Tensor y = Tensor::empty(a.shape(), needs_grad({&a, &b}));
  const float *A = a.data(), *Bv = b.data();
  float* Y = y.data();
  parallel_for(n, n > kParallelMinWork, [&](int64_t i) { Y[i] = A[i] * Bv[i]; });
  if (y.requires_grad()) {
    tape().record([a, b, y, n]() {
      ProfileScope backward_scope("mul.backward");
      const float* dY = y.grad();
      if (a.requires_grad()) {
        float* dA = a.grad();
        const float* Bv = b.data();
        parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dA[i] += dY[i] * Bv[i]; });
      }
      if (b.requires_grad()) {
        float* dB = b.grad();
        const float* A = a.data();
        parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dB[i] += dY[i] * A[i]; });
      }
    });
  }
  return y;
}

// scale: y = s·a   backward  da += s·dy
Tensor scale(const Tensor& a, float s) {
  ProfileScope forward_scope("scale.forward");
  const int64_t n = a.numel();
  Tensor y = Tensor::empty(a.shape(), needs_grad({&a}));
  const float* A = a.data();
  float* Y = y.data();
  parallel_for(n, n > kParallelMinWork, [&](int64_t i) { Y[i] = s * A[i]; });
  if (y.requires_grad()) {
    tape().record([a, y, n, s]() {
      ProfileScope backward_scope("scale.backward");
      const float* dY = y.grad();
      float* dA = a.grad();
      parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dA[i] += s * dY[i]; });
    });
  }
  return y;
}

// sum: y = Σ a (accumulated in double)   backward  da += dy (broadcast)
Tensor sum(const Tensor& a) {
  ProfileScope forward_scope("sum.forward");
  const int64_t n = a.numel();
  Tensor y = Tensor::empty({1}, needs_grad({&a}));
  double total = 0.0;
  const float* A = a.data();
  for (int64_t i = 0; i < n; i++) total += A[i];
  y.data()[0] = static_cast<float>(total);
  if (y.requires_grad()) {
    tape().record([a, y, n]() {
      ProfileScope backward_scope("sum.backward");
      const float dy = y.grad()[0];
      float* dA = a.grad();
      for (int64_t i = 0; i < n; i++) dA[i] += dy;
    });
  }
  return y;
}

}  // namespace tg

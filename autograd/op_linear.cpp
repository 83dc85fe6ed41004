// linear: y = x · W^T + b, as torch.nn.Linear (W is [out, in]); optionally + residual.
//   forward   one GEMM over all rows of x (rows = everything but the last dim) that adds the
//             bias as it stores y; with a residual, onto residual + bias written into y first
//   backward  dx += dy · W,  dW += dy^T · x,  db += column sums of dy,  dresidual += dy
#include <algorithm>
#include <stdexcept>

#include "autograd/gemm.h"
#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

void linear_rows(const float* x, int64_t rows, int64_t in, const float* weight,
                 const float* bias, int64_t out, const float* residual, float* y) {
  if (bias && !residual) {  // the bias goes in as the product is stored
    gemm_plus_bias(false, true, rows, out, in, x, in, weight, in, bias, y, out);
    return;
  }
  float beta = 0.0f;
  if (bias || residual) {  // the GEMM then adds onto them (beta = 1)
    parallel_for(rows, rows * out > kParallelMinWork, [&](int64_t r) {
      float* yr = y + r * out;
      const float* rr = residual ? residual + r * out : nullptr;
      if (rr && bias)
        for (int64_t o = 0; o < out; o++) yr[o] = rr[o] + bias[o];
      else if (rr && rr != yr)
        std::copy_n(rr, out, yr);
      else if (bias)
        std::copy_n(bias, out, yr);
    });
    beta = 1.0f;
  }
  gemm(false, true, rows, out, in, 1.0f, x, in, weight, in, beta, y, out);
}

namespace {

Tensor linear_impl(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const Tensor& residual) {
  ProfileScope forward_scope("linear.forward");
  if (weight.ndim() != 2 || x.size(-1) != weight.size(1))
    throw std::invalid_argument("linear: input " + shape_str(x.shape()) +
                                " does not fit weight " + shape_str(weight.shape()) +
                                " ([out, in])");
  const int64_t in = weight.size(1), out_features = weight.size(0);
  if (bias.defined()) check_shape(bias, {out_features}, "linear bias");
  const int64_t rows = rows_of(x, "linear");
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  if (residual.defined()) check_shape(residual, out_shape, "linear residual");
  Tensor y = Tensor::empty(out_shape, needs_grad({&x, &weight, &bias, &residual}));

  linear_rows(x.data(), rows, in, weight.data(), bias.defined() ? bias.data() : nullptr,
              out_features, residual.defined() ? residual.data() : nullptr, y.data());

  if (y.requires_grad()) {
    tape().record([x, weight, bias, residual, y, rows, in, out_features]() mutable {
      ProfileScope backward_scope("linear.backward");
      const float* dY = y.grad();  // [rows, out]
      if (x.requires_grad()) {  // dx [rows, in] += dY [rows, out] · W [out, in]
        bool fresh = false;
        float* dx = x.grad_for_overwrite(&fresh);
        gemm(false, false, rows, in, out_features, 1.0f, dY, out_features, weight.data(), in,
             fresh ? 0.0f : 1.0f, dx, in);
      }
      if (weight.requires_grad()) {  // dW [out, in] += dY^T · x (= when the gradient is fresh)
        bool fresh = false;
        float* dW = weight.grad_for_overwrite(&fresh);
        gemm(true, false, out_features, in, rows, 1.0f, dY, out_features, x.data(), in,
             fresh ? 0.0f : 1.0f, dW, in);
      }
      if (residual.defined() && residual.requires_grad()) {
        bool fresh = false;
        float* dR = residual.grad_for_overwrite(&fresh);
        const int64_t n = rows * out_features;
        parallel_for(n, n > kParallelMinWork, [&](int64_t i) { dR[i] = fresh ? dY[i] : dR[i] + dY[i]; });
      }
      if (bias.defined() && bias.requires_grad()) {
        bool fresh = false;
        float* db = bias.grad_for_overwrite(&fresh);
        column_sums(rows, out_features, db, !fresh,
                    [dY, out_features](int64_t r, int64_t o) { return dY[r * out_features + o]; });
      }
    });
  }
  return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return linear_impl(x, weight, bias, Tensor());
}

Tensor linear_residual(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& residual) {
  return linear_impl(x, weight, bias, residual);
}

}  // namespace tg

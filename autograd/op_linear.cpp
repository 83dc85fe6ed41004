// linear: y = x · W^T + b, as torch.nn.Linear (W is [out, in]).
//   forward   one GEMM over all rows of x (rows = everything but the last dim), bias first
//   backward  dx += dy · W,  dW += dy^T · x,  db += column sums of dy
#include <algorithm>
#include <stdexcept>

#include "autograd/gemm.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ProfileScope forward_scope("linear.forward");
  if (weight.ndim() != 2 || x.size(-1) != weight.size(1))
    throw std::invalid_argument("linear: input " + shape_str(x.shape()) +
                                " does not fit weight " + shape_str(weight.shape()) +
                                " ([out, in])");
  const int64_t in = weight.size(1), out_features = weight.size(0);
  if (bias.defined()) check_shape(bias, {out_features}, "linear bias");
  const int64_t rows = x.numel() / in;
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor y = Tensor::empty(out_shape, needs_grad({&x, &weight, &bias}));

  float beta = 0.0f;
  if (bias.defined()) {  // start from the bias so the GEMM adds onto it (beta = 1)
    float* Y = y.data();
    const float* b = bias.data();
#pragma omp parallel for if (rows * out_features > kParallelMinWork)
    for (int64_t r = 0; r < rows; r++) std::copy(b, b + out_features, Y + r * out_features);
    beta = 1.0f;
  }
  gemm(false, true, rows, out_features, in, 1.0f, x.data(), in, weight.data(), in, beta,
       y.data(), out_features);

  if (y.requires_grad()) {
    tape().record([x, weight, bias, y, rows, in, out_features]() mutable {
      ProfileScope backward_scope("linear.backward");
      const float* dY = y.grad();  // [rows, out]
      if (x.requires_grad()) {  // dx [rows, in] += dY [rows, out] · W [out, in]
        bool fresh = false;
        float* dx = x.grad_for_overwrite(&fresh);
        gemm(false, false, rows, in, out_features, 1.0f, dY, out_features, weight.data(), in,
             fresh ? 0.0f : 1.0f, dx, in);
      }
      if (weight.requires_grad())  // dW [out, in] += dY^T · x
        gemm(true, false, out_features, in, rows, 1.0f, dY, out_features, x.data(), in, 1.0f,
             weight.grad(), in);
      if (bias.defined() && bias.requires_grad()) {
        add_column_sums(rows, out_features, bias.grad(),
                        [dY, out_features](int64_t r, int64_t o) { return dY[r * out_features + o]; });
      }
    });
  }
  return y;
}

}  // namespace tg

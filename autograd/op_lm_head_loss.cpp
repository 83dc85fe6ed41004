// lm_head_cross_entropy: the output projection and the loss in one pass over row chunks,
//   loss = cross_entropy(x · W^T, targets)      x [..., C], W [V, C] (the tied wte)
//
// The unfused pair keeps logits [N, V] and their gradient alive from forward to backward:
// 2 × 411 MB for 2048 rows of GPT-2's 50257-token vocabulary. Here each chunk of rows makes
// its logits, turns them into d(loss)/d(logits) at once (softmax − onehot, over the counted
// targets), and folds them into dx = dlogits · W and dW = dlogitsᵀ · x before the next chunk
// reuses the buffer. Backward only scales those by the incoming gradient of the loss. Same
// three GEMMs as the unfused version; memory O(chunk·V + V·C) instead of O(N·V).
// When all rows fit in one chunk, d(loss)/d(logits) stays in the chunk buffer until backward,
// whose two products then write x's and W's gradients directly, scaled by the incoming
// gradient: no dW [V, C] copy (154 MB for GPT-2) and no pass that scales it into W's gradient.
#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/gemm.h"
#include "autograd/loss_rows.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {
namespace {
// Logits chunk: 1024 × V floats (206 MB for V = 50257). Each chunk's two products with W pack
// all of W (77 MB for mini) again, so fewer, bigger chunks pay: with 256 rows, mini spent ~6%
// of its step packing W; 1024 rows measured 5-10% faster steps for 150 MB more.
constexpr int64_t kRowChunk = 1024;
}

Tensor lm_head_cross_entropy(const Tensor& x, const Tensor& weight, const Ids& targets,
                             int32_t ignore_index) {
  ProfileScope forward_scope("lm_head_loss.forward");
  const int64_t C = x.size(-1), N = rows_of(x, "lm_head_cross_entropy");
  if (weight.ndim() != 2 || weight.size(1) != C)
    throw std::invalid_argument("lm_head_cross_entropy: x " + shape_str(x.shape()) +
                                " does not fit weight " + shape_str(weight.shape()));
  const int64_t V = weight.size(0);
  Shape lead(x.shape().begin(), x.shape().end() - 1);
  if (targets.shape != lead || targets.numel() != N)
    throw std::invalid_argument("lm_head_cross_entropy: targets " + shape_str(targets.shape) +
                                " do not match rows " + shape_str(lead));
  const int64_t counted = count_targets(targets, V, ignore_index, "lm_head_cross_entropy");
  const bool grad = needs_grad({&x, &weight});
  Tensor loss = Tensor::empty({1}, grad);
  // One chunk: its d(loss)/d(logits) waits in the buffer for backward (see the top). Otherwise
  // each chunk's share of d(loss)/dx and d(loss)/dW, for an incoming gradient of 1, is summed
  // here.
  const bool one_chunk = N > 0 && N <= kRowChunk;
  Tensor dx, dw;
  if (grad && !one_chunk && x.requires_grad()) dx = Tensor::empty(x.shape());
  if (grad && !one_chunk && weight.requires_grad())  // the first chunk's product stores
    dw = N > 0 ? Tensor::empty(weight.shape()) : Tensor::zeros(weight.shape());
  Tensor logits = Tensor::empty({std::min(N, kRowChunk), V});
  double* row_loss = row_loss_slots(N);
  const float inv_n = counted ? 1.0f / counted : 0.0f;
  const float *X = x.data(), *W = weight.data();
  float* Z = logits.data();

  for (int64_t r0 = 0; r0 < N; r0 += kRowChunk) {
    const int64_t rows = std::min(kRowChunk, N - r0);
    gemm(false, true, rows, V, C, 1.0f, X + r0 * C, C, W, C, 0.0f, Z, V);  // [rows, V]
    parallel_for(rows, rows * V > kParallelMinWork, [&](int64_t i) {
      Eigen::Map<Eigen::ArrayXf> z(Z + i * V, V);
      const int32_t t = targets.data[r0 + i];
      const float z_t = t != ignore_index ? z[t] : 0.0f;
      const float mx = z.maxCoeff();
      z = (z - mx).exp();  // one vectorised exp pass: e = exp(z − max)
      const float s = z.sum();
      if (t != ignore_index) row_loss[r0 + i] = mx + std::log(s) - z_t;
      if (!grad) return;
      if (t == ignore_index) {  // an ignored row sends no gradient
        z.setZero();
        return;
      }
      z *= inv_n / s;  // softmax / n
      z[t] -= inv_n;
    });
    if (dx.defined())  // dx [rows, C] = dlogits [rows, V] · W [V, C]
      gemm(false, false, rows, C, V, 1.0f, Z, V, W, C, 0.0f, dx.data() + r0 * C, C);
    if (dw.defined())  // dW [V, C] += dlogitsᵀ · x (the first chunk stores)
      gemm(true, false, V, C, rows, 1.0f, Z, V, X + r0 * C, C, r0 == 0 ? 0.0f : 1.0f, dw.data(), C);
  }
  loss.data()[0] = mean_loss(row_loss, N, counted);

  if (grad && one_chunk) {
    tape().record([x, weight, loss, logits, N, V, C]() {
      ProfileScope backward_scope("lm_head_loss.backward");
      const float g = loss.grad()[0];
      const float* dZ = logits.data();  // d(loss)/d(logits) [N, V]
      bool fresh = false;
      if (x.requires_grad()) {  // dx (+)= g · dlogits · W
        float* to = x.grad_for_overwrite(&fresh);
        gemm(false, false, N, C, V, g, dZ, V, weight.data(), C, fresh ? 0.0f : 1.0f, to, C);
      }
      if (weight.requires_grad()) {  // dW (+)= g · dlogitsᵀ · x
        float* to = weight.grad_for_overwrite(&fresh);
        gemm(true, false, V, C, N, g, dZ, V, x.data(), C, fresh ? 0.0f : 1.0f, to, C);
      }
    });
  } else if (grad) {
    tape().record([x, weight, loss, dx, dw]() {
      ProfileScope backward_scope("lm_head_loss.backward");
      const float g = loss.grad()[0];
      auto add_scaled = [g](const Tensor& from, const Tensor& to) {  // to.grad (+)= g · from
        bool fresh = false;
        float* t = to.grad_for_overwrite(&fresh);
        const float* f = from.data();
        const int64_t n = from.numel();
        parallel_for(n, n > kParallelMinWork,
                     [&](int64_t i) { t[i] = fresh ? g * f[i] : t[i] + g * f[i]; });
      };
      if (dx.defined()) add_scaled(dx, x);
      if (dw.defined()) add_scaled(dw, weight);
    });
  }
  return loss;
}

}  // namespace tg

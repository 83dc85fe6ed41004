// matmul: batched matrix product with optional transposes.
//   forward   C = op(A) · op(B)
//   backward  dA += dC · op(B)^T  (transposed back if A was),  dB += op(A)^T · dC  (likewise)
#include <stdexcept>

#include "autograd/gemm.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

namespace tg {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  ProfileScope forward_scope("matmul.forward");
  if (a.ndim() < 2 || b.ndim() < 2)
    throw std::invalid_argument("matmul: need at least 2-D operands, got " +
                                shape_str(a.shape()) + " and " + shape_str(b.shape()));
  const int64_t M = trans_a ? a.size(-1) : a.size(-2);
  const int64_t K = trans_a ? a.size(-2) : a.size(-1);
  const int64_t Kb = trans_b ? b.size(-1) : b.size(-2);
  const int64_t N = trans_b ? b.size(-2) : b.size(-1);
  Shape batch(a.shape().begin(), a.shape().end() - 2);
  Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  const bool b_shared = b.ndim() == 2;
  if (K != Kb || (!b_shared && batch != b_batch))
    throw std::invalid_argument("matmul: shapes do not fit: " + shape_str(a.shape()) +
                                (trans_a ? "^T" : "") + " · " + shape_str(b.shape()) +
                                (trans_b ? "^T" : ""));
  const int64_t n_batch = shape_numel(batch);
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, needs_grad({&a, &b}));

  const int64_t lda = a.size(-1), ldb = b.size(-1);
  const int64_t a_stride = M * K, b_stride = b_shared ? 0 : K * N, c_stride = M * N;
  for (int64_t i = 0; i < n_batch; i++)
    gemm(trans_a, trans_b, M, N, K, 1.0f, a.data() + i * a_stride, lda,
         b.data() + i * b_stride, ldb, 0.0f, out.data() + i * c_stride, N);

  if (out.requires_grad()) {
    tape().record([a, b, out, trans_a, trans_b, M, N, K, n_batch, lda, ldb, a_stride, b_stride,
                   c_stride]() mutable {
      ProfileScope backward_scope("matmul.backward");
      const float* dC = out.grad();
      for (int64_t i = 0; i < n_batch; i++) {
        const float* A = a.data() + i * a_stride;
        const float* B = b.data() + i * b_stride;
        const float* dCi = dC + i * c_stride;
        if (a.requires_grad()) {
          float* dA = a.grad() + i * a_stride;
          if (!trans_a)  // dA [M,K] += dC [M,N] · op(B)^T
            gemm(false, !trans_b, M, K, N, 1.0f, dCi, N, B, ldb, 1.0f, dA, lda);
          else  // dA [K,M] += op(B) [K,N] · dC^T
            gemm(trans_b, true, K, M, N, 1.0f, B, ldb, dCi, N, 1.0f, dA, lda);
        }
        if (b.requires_grad()) {
          float* dB = b.grad() + i * b_stride;  // shared b: every batch entry adds in
          if (!trans_b)  // dB [K,N] += op(A)^T · dC
            gemm(!trans_a, false, K, N, M, 1.0f, A, lda, dCi, N, 1.0f, dB, ldb);
          else  // dB [N,K] += dC^T · op(A)
            gemm(true, trans_a, N, K, M, 1.0f, dCi, N, A, lda, 1.0f, dB, ldb);
        }
      }
    });
  }
  return out;
}

}  // namespace tg

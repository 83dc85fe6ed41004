// reshape, split_heads, merge_heads: ops that only move data; backward moves the gradient back.
#include <stdexcept>

#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

// reshape: same elements in the same order, another shape. Gradient flows straight through.
Tensor reshape(const Tensor& x, const Shape& shape) {
  if (shape_numel(shape) != x.numel())
    throw std::invalid_argument("reshape: cannot reshape " + shape_str(x.shape()) + " to " +
                                shape_str(shape));
  Tensor y = x.clone().view_as_shape(shape);
  y.set_requires_grad(needs_grad({&x}));
  if (y.requires_grad()) {
    tape().record([x, y]() {
      const float* dY = y.grad();
      float* dX = x.grad();
      for (int64_t i = 0, n = x.numel(); i < n; i++) dX[i] += dY[i];
    });
  }
  return y;
}

namespace {
// Copies between [B, T, NH·HS] and [B, NH, T, HS]; `to_heads` picks the direction, `add`
// accumulates instead of overwriting (for gradients).
void move_heads(const float* src, float* dst, int64_t B, int64_t T, int64_t NH, int64_t HS,
                bool to_heads, bool add) {
  parallel_for(B * NH, B * T * NH * HS > kParallelMinWork, [&](int64_t bh) {
    const int64_t b = bh / NH, h = bh % NH;
    for (int64_t t = 0; t < T; t++) {
      const int64_t merged = ((b * T + t) * NH + h) * HS, split = ((b * NH + h) * T + t) * HS;
      const float* s = src + (to_heads ? merged : split);
      float* d = dst + (to_heads ? split : merged);
      for (int64_t i = 0; i < HS; i++) d[i] = add ? d[i] + s[i] : s[i];
    }
  });
}
}  // namespace

Tensor split_heads(const Tensor& x, int n_head) {
  if (x.ndim() != 3 || n_head <= 0 || x.size(2) % n_head != 0)
    throw std::invalid_argument("split_heads: need [B, T, C] with C divisible by n_head=" +
                                std::to_string(n_head) + ", got " + shape_str(x.shape()));
  const int64_t B = x.size(0), T = x.size(1), NH = n_head, HS = x.size(2) / n_head;
  Tensor y = Tensor::empty({B, NH, T, HS}, needs_grad({&x}));
  move_heads(x.data(), y.data(), B, T, NH, HS, true, false);
  if (y.requires_grad())
    tape().record([x, y, B, T, NH, HS]() {
      move_heads(y.grad(), x.grad(), B, T, NH, HS, false, true);
    });
  return y;
}

Tensor merge_heads(const Tensor& x) {
  if (x.ndim() != 4)
    throw std::invalid_argument("merge_heads: need [B, NH, T, HS], got " + shape_str(x.shape()));
  const int64_t B = x.size(0), NH = x.size(1), T = x.size(2), HS = x.size(3);
  Tensor y = Tensor::empty({B, T, NH * HS}, needs_grad({&x}));
  move_heads(x.data(), y.data(), B, T, NH, HS, false, false);
  if (y.requires_grad())
    tape().record([x, y, B, T, NH, HS]() {
      move_heads(y.grad(), x.grad(), B, T, NH, HS, true, true);
    });
  return y;
}

}  // namespace tg

// embedding: y[i] = weight[ids[i]]   backward  dweight[ids[i]] += dy[i]
// Backward adds rows serially: two positions with the same id write the same row.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "autograd/ops.h"
#include "autograd/pool.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

namespace tg {

Tensor embedding(const Ids& ids, const Tensor& weight) {
  ProfileScope forward_scope("embedding.forward");
  if (weight.ndim() != 2)
    throw std::invalid_argument("embedding: weight must be [V, C], got " +
                                shape_str(weight.shape()));
  const int64_t V = weight.size(0), C = weight.size(1), n = ids.numel();
  if (shape_numel(ids.shape) != n)
    throw std::invalid_argument("embedding: ids shape " + shape_str(ids.shape) + " holds " +
                                std::to_string(n) + " ids");
  for (int64_t i = 0; i < n; i++)
    if (ids.data[i] < 0 || ids.data[i] >= V)
      throw std::out_of_range("embedding: token id " + std::to_string(ids.data[i]) +
                              " at position " + std::to_string(i) + " is outside [0, " +
                              std::to_string(V) + ")");
  Shape out_shape = ids.shape;
  out_shape.push_back(C);
  Tensor y = Tensor::empty(out_shape, needs_grad({&weight}));
  const float* W = weight.data();
  float* Y = y.data();
  for (int64_t i = 0; i < n; i++) std::copy_n(W + ids.data[i] * C, C, Y + i * C);
  if (y.requires_grad()) {
    std::shared_ptr<int32_t> saved_ids = pool_alloc_ints(n);  // the caller's ids may change
    std::copy_n(ids.data.data(), n, saved_ids.get());
    tape().record([saved_ids, weight, y, n, C]() {
      ProfileScope backward_scope("embedding.backward");
      const float* dY = y.grad();
      float* dW = weight.grad();
      const int32_t* id = saved_ids.get();
      for (int64_t i = 0; i < n; i++) {
        float* row = dW + id[i] * C;
        const float* d = dY + i * C;
        for (int64_t c = 0; c < C; c++) row[c] += d[c];
      }
    });
  }
  return y;
}

}  // namespace tg

// cross_entropy from logits, averaged over the targets that are not ignore_index
// (torch.nn.functional.cross_entropy with ignore_index and mean reduction):
//   loss = (1/n) Σ_rows [ logsumexp(z) − z[target] ]
//   backward  dz = (softmax(z) − onehot(target)) · dloss / n, zero on ignored rows
// Forward keeps only each row's logsumexp ([rows]); backward recomputes the softmax from it.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/loss_rows.h"
#include "autograd/ops.h"
#include "autograd/pool.h"
#include "autograd/profile.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace tg {

Tensor cross_entropy(const Tensor& logits, const Ids& targets, int32_t ignore_index) {
  ProfileScope forward_scope("cross_entropy.forward");
  const int64_t V = logits.size(-1), rows = rows_of(logits, "cross_entropy");
  Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  if (targets.shape != lead || targets.numel() != rows)
    throw std::invalid_argument("cross_entropy: targets " + shape_str(targets.shape) +
                                " do not match logits " + shape_str(logits.shape()));
  const int64_t counted = count_targets(targets, V, ignore_index, "cross_entropy");
  Tensor loss = Tensor::empty({1}, needs_grad({&logits}));
  Tensor lse = Tensor::empty({rows});
  const float* Z = logits.data();
  float* LSE = lse.data();
  double* row_loss = row_loss_slots(rows);
  parallel_for(rows, rows * V > kParallelMinWork, [&](int64_t r) {
    const float* z = Z + r * V;
    float mx = z[0];
    for (int64_t v = 1; v < V; v++) mx = std::max(mx, z[v]);
    float s = 0.0f;
    for (int64_t v = 0; v < V; v++) s += std::exp(z[v] - mx);
    LSE[r] = mx + std::log(s);
    int32_t t = targets.data[r];
    if (t != ignore_index) row_loss[r] = LSE[r] - z[t];
  });
  loss.data()[0] = mean_loss(row_loss, rows, counted);
  if (loss.requires_grad()) {
    std::shared_ptr<int32_t> saved_targets = pool_alloc_ints(rows);  // the caller's may change
    std::copy_n(targets.data.data(), rows, saved_targets.get());
    tape().record([logits, saved_targets, loss, lse, rows, V, counted, ignore_index]() {
      ProfileScope backward_scope("cross_entropy.backward");
      if (!counted) return;
      const float scale_by = loss.grad()[0] / counted;
      const float *Z = logits.data(), *LSE = lse.data();
      float* dZ = logits.grad();
      parallel_for(rows, rows * V > kParallelMinWork, [&](int64_t r) {
        int32_t t = saved_targets.get()[r];
        if (t == ignore_index) return;  // this row has no target
        const float* z = Z + r * V;
        float* dz = dZ + r * V;
        for (int64_t v = 0; v < V; v++) dz[v] += std::exp(z[v] - LSE[r]) * scale_by;
        dz[t] -= scale_by;
      });
    });
  }
  return loss;
}

}  // namespace tg

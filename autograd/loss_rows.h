// loss_rows.h — what the two cross-entropy ops (cross_entropy, lm_head_cross_entropy) share:
// checking their targets, and a loss per row summed in a fixed order.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"

namespace tg {

// The targets that count (not ignore_index); throws std::out_of_range "<op>: target t outside
// [0, V)" for any other id outside the vocabulary.
inline int64_t count_targets(const Ids& targets, int64_t V, int32_t ignore_index, const char* op) {
  int64_t counted = 0;
  for (int32_t t : targets.data) {
    if (t == ignore_index) continue;
    if (t < 0 || t >= V)
      throw std::out_of_range(std::string(op) + ": target " + std::to_string(t) + " outside [0, " +
                              std::to_string(V) + ")");
    counted++;
  }
  return counted;
}

// A zeroed loss slot per row: threads fill the rows in parallel, mean_loss then sums them in row
// order, so the loss has the same bits run to run. One buffer per calling thread that keeps its
// capacity: no allocation per step. (A parallel loop must use the returned pointer: its worker
// threads have buffers of their own.)
inline double* row_loss_slots(int64_t rows) {
  static thread_local std::vector<double> buffer;
  buffer.assign(rows, 0.0);
  return buffer.data();
}

// Σ row_loss / counted; with no counted target the mean is 0/0: 0 (and zero gradient), not NaN.
inline float mean_loss(const double* row_loss, int64_t rows, int64_t counted) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; r++) total += row_loss[r];
  return counted ? static_cast<float>(total / counted) : 0.0f;
}

}  // namespace tg

#include "train/evaluate.h"

#include <algorithm>
#include <cmath>

#include "autograd/tape.h"

namespace tg {

Ids batch_inputs(const Batch& b) { return Ids{{b.B, b.T}, b.inputs}; }
Ids batch_targets(const Batch& b) { return Ids{{b.B, b.T}, b.targets}; }
int64_t counted_targets(const Batch& b) {
  return std::count_if(b.targets.begin(), b.targets.end(), [](int32_t t) { return t >= 0; });
}

EvalResult evaluate(GPT& model, const Dataset& data, int64_t batch_size, int64_t max_batches) {
  NoGrad no_grad;
  const bool was_training = model.training();
  model.set_training(false);
  BatchIterator it(data, batch_size, /*shuffle=*/false, /*seed=*/0);
  const int64_t examples = data.num_examples();
  const int64_t all = (examples + batch_size - 1) / batch_size;
  const int64_t n = max_batches > 0 ? std::min(max_batches, all) : all;  // each example once
  EvalResult r;
  double weighted = 0.0;
  Batch batch;
  for (int64_t i = 0; i < n; i++) {
    it.next(&batch);
    // Rows past the last example wrapped around to the start: they must not count twice.
    for (int64_t row = 0; row < batch_size; row++)
      if (i * batch_size + row >= examples)
        std::fill_n(batch.targets.begin() + row * batch.T, batch.T, -1);
    const int64_t counted = counted_targets(batch);
    if (counted == 0) continue;
    Ids x = batch_inputs(batch), y = batch_targets(batch);
    // Weight each batch by its counted targets: the mean is then per target, as one big batch.
    weighted += static_cast<double>(model.forward(x, &y, /*want_logits=*/false).loss.data()[0]) * counted;
    r.targets += counted;
    r.batches++;
  }
  model.set_training(was_training);
  r.loss = r.targets ? weighted / r.targets : 0.0;
  r.perplexity = std::exp(r.loss);
  return r;
}

}  // namespace tg

// evaluate.h — mean loss of a model over a dataset, without gradients or dropout.
#pragma once
#include "data/dataset.h"
#include "nn/gpt.h"

namespace tg {

struct EvalResult {
  double loss = 0;        // mean cross-entropy per counted target
  double perplexity = 0;  // exp(loss)
  int64_t batches = 0, targets = 0;
};

// Batches in sequential order from the dataset's start (the same batches every call), at most
// max_batches of them (0 = the whole dataset, the last batch wrapping around).
EvalResult evaluate(GPT& model, const Dataset& data, int64_t batch_size, int64_t max_batches);

// The batch's ids as the model's input and target tensors.
Ids batch_inputs(const Batch& b);
Ids batch_targets(const Batch& b);
// How many of the batch's targets count (are not -1, ignored).
int64_t counted_targets(const Batch& b);

}  // namespace tg

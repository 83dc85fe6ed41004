// memory_estimate.cpp — see memory_estimate.h.
#include "train/memory_estimate.h"

#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace tg {

double estimated_bytes(const GPTConfig& c, int64_t batch_size, bool training) {
  // In double: the point is to catch sizes whose products overflow int64.
  const double C = static_cast<double>(c.n_embd), L = static_cast<double>(c.n_layer);
  const double V = static_cast<double>(c.vocab_size), T = static_cast<double>(c.block_size);
  const double tokens = static_cast<double>(batch_size) * T;
  const double params = (V + T) * C + L * 12.0 * C * C;  // biases and LayerNorms left out
  // What a layer keeps for backward per token is more than 10·C floats (the LayerNorm outputs,
  // q|k|v, attention output, the MLP's 4·C hidden before and after GELU); inference keeps
  // only the residual stream and one layer's scratch at a time.
  const double activations = training ? tokens * L * 10.0 * C : tokens * 4.0 * C;
  return 4.0 * ((training ? 4.0 : 1.0) * params + activations);
}

void require_memory_for(const GPTConfig& c, int64_t batch_size, bool training,
                        const std::string& checkpoint) {
  const double needed = estimated_bytes(c, batch_size, training);
  const double machine =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (machine <= 0 || needed <= machine) return;
  char gb[64];
  std::snprintf(gb, sizeof gb, "%.3g GB, this machine has %.3g GB", needed / 1e9, machine / 1e9);
  if (!checkpoint.empty())  // a saved model, run one sequence at a time: nothing to make smaller
    throw std::invalid_argument(
        checkpoint + ": the model (n_layer=" + std::to_string(c.n_layer) + ", n_embd=" +
        std::to_string(c.n_embd) + ", vocab_size=" + std::to_string(c.vocab_size) +
        ") does not fit in memory: it needs at least " + gb);
  throw std::invalid_argument(
      "batch_size=" + std::to_string(batch_size) + ", block_size=" +
      std::to_string(c.block_size) + ", n_layer=" + std::to_string(c.n_layer) + ", n_embd=" +
      std::to_string(c.n_embd) + ", vocab_size=" + std::to_string(c.vocab_size) +
      ": does not fit in memory: " + (training ? "training" : "inference") +
      " needs at least " + gb + " (smaller batch_size, block_size or model?)");
}

}  // namespace tg

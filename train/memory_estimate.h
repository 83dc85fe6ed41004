// memory_estimate.h — refuses, up front, a run that cannot fit in this machine's memory.
//
// Linux hands out memory it does not have (overcommit): a model or batch too big for the
// machine is not an allocation error at the start but minutes of swapping, then the kernel's
// OOM kill, with no message. A lower bound on what the run needs, checked against physical
// memory before anything is allocated, turns that into a one-line error.
#pragma once
#include <cstdint>
#include <string>

#include "nn/gpt_config.h"

namespace tg {

// Bytes the run needs at least: fp32 weights (training: plus gradients and AdamW's m and v)
// and the activations of one batch of batch_size sequences of block_size tokens.
double estimated_bytes(const GPTConfig& config, int64_t batch_size, bool training);

// Throws std::invalid_argument ("batch_size=…, block_size=…, …: needs at least X GB …, this
// machine has Y GB") when the estimate exceeds the machine's physical memory; for a model
// loaded from `checkpoint` (non-empty), the message names that file and the model, not a batch.
void require_memory_for(const GPTConfig& config, int64_t batch_size, bool training,
                        const std::string& checkpoint = "");

}  // namespace tg

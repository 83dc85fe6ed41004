// parallel.h — one level of threading for every op.
//
// Element-wise loops use OpenMP; the thread count is OpenMP's (OMP_NUM_THREADS, default: all
// cores). Small tensors run on one thread: forking a team costs more than it saves.
#pragma once
#include <cstdint>

namespace tg {
constexpr int64_t kParallelMinWork = 1 << 14;  // elements below which a loop stays serial
int num_threads();
}  // namespace tg

// pool.h — float buffers that are recycled instead of freed.
//
// A training step asks for the same buffer sizes every time (activations, gradients, GEMM
// scratch). glibc hands big freed blocks back to the OS, so a naive step page-faults its whole
// working set again on every iteration. The pool keeps freed buffers by exact size and hands
// them out again: after the first step, a steady-state step takes no new memory from the OS.
#pragma once
#include <cstddef>
#include <memory>

namespace tg {

// A zero-initialised buffer is not promised: callers that accumulate must clear it themselves.
std::shared_ptr<float> pool_alloc(size_t n_floats);

// A pooled buffer of n int32 values (the same 4-byte blocks): what an op saves of its integer
// inputs (token ids) for backward, without a heap allocation per step.
std::shared_ptr<int32_t> pool_alloc_ints(size_t n);

// `bytes` of memory on a 64-byte boundary; from 4 MB on, on a 2 MB boundary (rounded up to
// whole 2 MB pages) and offered to the kernel as transparent huge pages (pool.cpp says why).
// nullptr when out of memory; give it back with std::free. The pool's buffers come from here,
// and so do big arrays kept outside it (HugePageAllocator).
void* aligned_buffer(size_t bytes);

struct PoolStats {
  size_t fresh_allocations = 0;  // buffers that had to come from the system allocator
  size_t reuses = 0;             // buffers served from the free lists
  size_t bytes_in_use = 0;
  size_t bytes_cached = 0;
};
PoolStats pool_stats();
void pool_release_cached();  // give every cached buffer back to the system

}  // namespace tg

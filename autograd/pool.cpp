#include "autograd/pool.h"

#include <sys/mman.h>

#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "autograd/recycling_allocator.h"

namespace tg {
namespace {

struct Pool {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<float*>> free_by_size;
  PoolStats stats;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may be returned during static teardown
  return *p;
}

constexpr size_t kAlignment = 64;  // one cache line, and what AVX-512 loads like

// Buffers this large start on a 2 MB boundary and are offered to the kernel as transparent
// huge pages. Where THP is `madvise` (Debian's default, and this machine's), no buffer gets
// them unasked. The lm_head's products walk the tied embedding, its gradient and the logits
// (77-206 MB each for mini) with rows 1.5-200 KB apart. In an in-process harness, operands on
// huge pages ran those products ~3% faster (median of 36 samples; bench/RESULTS.md, session
// 12). From 16 MB down to 4 MB since session 19: mini's 9-13 MB activations (2,048 rows of
// 1,152 or 1,536) each span more 4 KB pages than the TLB holds, and on huge pages mini's step
// ran 5-17% faster on the Zen 5 VM (linear backward 3-19%, attention backward 43-52%); from
// 2 MB, GPT-2's 2.4-3.1 MB ones (256 rows) made its step 6-10% slower. Rounding up to whole
// 2 MB pages costs under 2 MB per buffer (mini: +12 MB of 1.1 GB).
constexpr size_t kHugePage = size_t{2} << 20, kHugePagesFrom = size_t{4} << 20;

}  // namespace

void* aligned_buffer(size_t bytes) {
  if (bytes > std::numeric_limits<size_t>::max() - kHugePage) return nullptr;  // no rounding up
  bytes = ((bytes + kAlignment - 1) / kAlignment) * kAlignment;
  if (bytes < kHugePagesFrom) return std::aligned_alloc(kAlignment, bytes ? bytes : kAlignment);
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* ptr = std::aligned_alloc(kHugePage, bytes);
  if (ptr) madvise(ptr, bytes, MADV_HUGEPAGE);  // a hint: if refused, 4 KB pages as before
  return ptr;
}

std::shared_ptr<float> pool_alloc(size_t n) {
  Pool& p = pool();
  float* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.free_by_size.find(n);
    if (it != p.free_by_size.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      p.stats.reuses++;
      p.stats.bytes_cached -= n * sizeof(float);
    }
  }
  if (!ptr) {
    ptr = static_cast<float*>(aligned_buffer(n * sizeof(float)));
    if (!ptr) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.fresh_allocations++;
  }
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.bytes_in_use += n * sizeof(float);
  }
  return std::shared_ptr<float>(ptr, [n](float* q) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    p.free_by_size[n].push_back(q);
    p.stats.bytes_in_use -= n * sizeof(float);
    p.stats.bytes_cached += n * sizeof(float);
  }, RecyclingAllocator<float>());  // the reference count's block is recycled too
}

std::shared_ptr<int32_t> pool_alloc_ints(size_t n) {
  static_assert(sizeof(int32_t) == sizeof(float), "ints share the float pool's blocks");
  std::shared_ptr<float> block = pool_alloc(n);
  return std::shared_ptr<int32_t>(block, reinterpret_cast<int32_t*>(block.get()));
}

PoolStats pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void pool_release_cached() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  for (auto& [n, list] : p.free_by_size)
    for (float* q : list) std::free(q);
  p.free_by_size.clear();
  p.stats.bytes_cached = 0;
}

}  // namespace tg

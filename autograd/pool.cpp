#include "autograd/pool.h"

#include <cstdlib>
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

}  // namespace

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
    size_t bytes = ((n * sizeof(float) + kAlignment - 1) / kAlignment) * kAlignment;
    ptr = static_cast<float*>(std::aligned_alloc(kAlignment, bytes ? bytes : kAlignment));
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

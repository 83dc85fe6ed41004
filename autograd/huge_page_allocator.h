// huge_page_allocator.h — a std::vector allocator that takes its memory as the pool does
// (aligned_buffer; not from the pool's free lists, nor counted in pool_stats): big arrays kept
// outside the pool (AdamW's moments, two more copies of the model's size) start on a 2 MB
// boundary and are offered transparent huge pages, as the parameters and gradients are.
// On 4 KB pages, AdamW's pass ran 2-5× slower on mini and ~1.5× on GPT-2 (0.5 GB each of m
// and v) on the Zen 5 VM: a TLB miss every 4 KB of four streams (bench/RESULTS.md, session 19).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

#include "autograd/pool.h"

namespace tg {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    void* p = aligned_buffer(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
};

// Stateless: memory from any of them can be given back through any other.
template <class T, class U>
bool operator==(const HugePageAllocator<T>&, const HugePageAllocator<U>&) noexcept {
  return true;
}
template <class T, class U>
bool operator!=(const HugePageAllocator<T>&, const HugePageAllocator<U>&) noexcept {
  return false;
}

}  // namespace tg

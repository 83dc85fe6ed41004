// recycling_allocator.h — small fixed-size objects from a free list instead of malloc.
//
// Every op makes a few small objects: a tensor's header, the reference count of its pooled
// buffer. A training step makes hundreds of them, the same ones every step, so after the first
// step they come back off a free list of same-sized blocks: tapegpt's own code makes no heap
// allocation in a steady-state step (`tapegpt bench` counts what the libraries still make).
#pragma once
#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace tg {

namespace detail {
// One free list per block size, shared by all threads (ops make tensors on the calling thread,
// so the lock is uncontended). It lives until the process ends, after every tensor.
template <size_t Size>
class FreeBlocks {
 public:
  static void* take() {
    List& l = list();
    {
      std::lock_guard<std::mutex> lock(l.mutex);
      if (!l.blocks.empty()) {
        void* p = l.blocks.back();
        l.blocks.pop_back();
        return p;
      }
    }
    return ::operator new(Size);
  }
  static void give_back(void* p) {
    List& l = list();
    std::lock_guard<std::mutex> lock(l.mutex);
    l.blocks.push_back(p);
  }

 private:
  struct List {
    std::mutex mutex;
    std::vector<void*> blocks;
  };
  static List& list() {
    static List* l = new List;  // never destroyed: tensors may outlive static destructors
    return *l;
  }
};
}  // namespace detail

// An std::allocator stand-in for std::allocate_shared and shared_ptr control blocks: single
// objects are recycled, arrays go to operator new.
template <typename T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U>&) {}

  T* allocate(size_t n) {
    if (n != 1) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(detail::FreeBlocks<sizeof(T)>::take());
  }
  void deallocate(T* p, size_t n) {
    if (n != 1) return ::operator delete(p);
    detail::FreeBlocks<sizeof(T)>::give_back(p);
  }
  template <typename U>
  bool operator==(const RecyclingAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const RecyclingAllocator<U>&) const { return false; }
};

}  // namespace tg

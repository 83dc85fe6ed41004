// heap_count.cpp — counts heap allocations in the tapegpt process, so `tapegpt bench` can show
// how many a steady-state training step makes. Both ways in are counted: operator new (our
// C++ objects) and malloc and its siblings, which the libraries use (oneDNN's GEMM scratch,
// Eigen's temporaries, libgomp). The memory itself still comes from glibc: these wrappers add
// one relaxed atomic increment and call glibc's own entry points, free included, so the
// binary owns every entry point of the allocator as glibc's manual asks of a replacement.
//
// glibc only (CMake checks for __libc_memalign); not built into sanitizer builds, whose
// runtimes replace malloc themselves. To see allocations under heaptrack, build without it:
// -DTAPEGPT_COUNT_ALLOCATIONS=OFF.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {
std::atomic<uint64_t> allocations{0};
void count() { allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

extern "C" {
uint64_t tapegpt_heap_allocations() { return allocations.load(std::memory_order_relaxed); }

// glibc's allocator, under the names it exports for exactly this purpose.
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void __libc_free(void* p);

void free(void* p) { __libc_free(p); }

void* malloc(size_t size) {
  count();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  count();
  return __libc_realloc(p, size);
}
void* memalign(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
void* valloc(size_t size) {
  count();
  return __libc_valloc(size);
}
void* pvalloc(size_t size) {
  count();
  return __libc_pvalloc(size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment == 0 || alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0)
    return EINVAL;
  count();
  void* p = __libc_memalign(alignment, size);
  if (!p && size) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"

// operator new goes through malloc above, so it is counted there.
void* operator new(std::size_t size) {
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

// tape.h — the record of a forward pass, walked backwards to get gradients.
//
// Every op that produces a tensor needing a gradient pushes one record: a closure that reads
// the output's gradient and *adds* into its inputs' gradients (so a tensor used twice gets the
// sum, and gradients of parameters accumulate across backward passes until zero_grad()).
// Ops are recorded in execution order, which is already a topological order, so backward is a
// single reverse walk — no graph sort needed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace tg {

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  ~Tape() { clear(); }

  // Stores the closure in the tape's own arena: its memory is reused step after step, so
  // recording makes no heap allocation once the first step has sized the arena.
  template <typename F>
  void record(F&& backward_step) {
    using Closure = std::decay_t<F>;
    static_assert(alignof(Closure) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned closure");
    // Grow before the closure exists (nothing below may throw), and geometrically: reserve(n)
    // allocates exactly n, which would copy the whole list once per record.
    if (records_.size() == records_.capacity())
      records_.reserve(std::max<size_t>(64, 2 * records_.size()));
    void* at = arena_.allocate(sizeof(Closure), alignof(Closure));
    new (at) Closure(std::forward<F>(backward_step));
    records_.push_back({at, [](void* c) { (*static_cast<Closure*>(c))(); },
                        [](void* c) { static_cast<Closure*>(c)->~Closure(); }});
  }

  // Seeds d(loss)/d(loss) = 1 (loss must hold one element), runs every record in reverse,
  // then clears the tape, releasing the activations the records kept alive.
  void backward(const Tensor& loss);
  void clear();  // drops every record unrun
  size_t size() const { return records_.size(); }

 private:
  struct Record {
    void* closure;
    void (*run)(void*);
    void (*destroy)(void*);  // releases what the closure captured (activations, inputs)
  };
  // Bump allocation in chunks that are kept when the tape is cleared.
  class Arena {
   public:
    void* allocate(size_t bytes, size_t align);
    void rewind() { chunk_ = 0, used_ = 0; }

   private:
    static constexpr size_t kChunkBytes = 64 * 1024;
    struct Chunk {
      std::unique_ptr<std::byte[]> bytes;
      size_t size;
    };
    std::vector<Chunk> chunks_;
    size_t chunk_ = 0, used_ = 0;  // current chunk, bytes used in it
  };

  std::vector<Record> records_;
  Arena arena_;
};

// The tape ops record on (one per thread).
Tape& tape();

// True when ops should record: gradient mode is on (no NoGrad in scope).
bool grad_enabled();

// Inference scope: ops run but record nothing and their outputs need no gradient.
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// Whether an op with these inputs must record: gradient mode on and any input needs a gradient.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

}  // namespace tg

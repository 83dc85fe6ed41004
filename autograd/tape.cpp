#include "autograd/tape.h"

#include <algorithm>
#include <stdexcept>

namespace tg {
namespace {
thread_local Tape current_tape;
thread_local bool grad_mode = true;
}  // namespace

Tape& tape() { return current_tape; }
bool grad_enabled() { return grad_mode; }

NoGrad::NoGrad() : previous_(grad_mode) { grad_mode = false; }
NoGrad::~NoGrad() { grad_mode = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_mode) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void Tape::backward(const Tensor& loss) {
  if (loss.numel() != 1)
    throw std::invalid_argument("backward: loss must hold one element, got shape " +
                                shape_str(loss.shape()));
  if (!loss.requires_grad())
    throw std::invalid_argument("backward: loss does not depend on anything that needs a gradient");
  loss.grad()[0] += 1.0f;
  // Pop each record once it ran: the activations and gradients only it held go back to the
  // pool while backward goes on, so later gradients reuse their memory (lower peak).
  try {
    while (!records_.empty()) {
      Record r = records_.back();
      records_.pop_back();
      struct Destroy {  // runs even when the step throws
        Record r;
        ~Destroy() { r.destroy(r.closure); }
      } destroy{r};
      r.run(r.closure);
    }
  } catch (...) {
    clear();  // a half-run tape must not leak into the next backward
    throw;
  }
  arena_.rewind();
}

void Tape::clear() {
  while (!records_.empty()) {
    Record r = records_.back();
    records_.pop_back();
    r.destroy(r.closure);
  }
  arena_.rewind();
}

void* Tape::Arena::allocate(size_t bytes, size_t align) {
  for (;;) {
    if (chunk_ < chunks_.size()) {
      const size_t at = (used_ + align - 1) / align * align;
      if (at + bytes <= chunks_[chunk_].size) {
        used_ = at + bytes;
        return chunks_[chunk_].bytes.get() + at;
      }
      chunk_++, used_ = 0;  // the rest of this chunk stays unused until the next rewind
      continue;
    }
    // new[] of bytes is aligned for any fundamental type, as closures need
    const size_t size = std::max(kChunkBytes, bytes + align);
    chunks_.push_back({std::make_unique<std::byte[]>(size), size});
  }
}

}  // namespace tg

#include "autograd/tape.h"

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
    while (!steps_.empty()) {
      std::function<void()> step = std::move(steps_.back());
      steps_.pop_back();
      step();
    }
  } catch (...) {
    steps_.clear();  // a half-run tape must not leak into the next backward
    throw;
  }
}

}  // namespace tg

// tape.h — the record of a forward pass, walked backwards to get gradients.
//
// Every op that produces a tensor needing a gradient pushes one record: a closure that reads
// the output's gradient and *adds* into its inputs' gradients (so a tensor used twice gets the
// sum, and gradients of parameters accumulate across backward passes until zero_grad()).
// Ops are recorded in execution order, which is already a topological order, so backward is a
// single reverse walk — no graph sort needed.
#pragma once
#include <functional>
#include <vector>

#include "autograd/tensor.h"

namespace tg {

class Tape {
 public:
  void record(std::function<void()> backward_step) { steps_.push_back(std::move(backward_step)); }

  // Seeds d(loss)/d(loss) = 1 (loss must hold one element), runs every record in reverse,
  // then clears the tape, releasing the activations the records kept alive.
  void backward(const Tensor& loss);
  void clear() { steps_.clear(); }
  size_t size() const { return steps_.size(); }

 private:
  std::vector<std::function<void()>> steps_;
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

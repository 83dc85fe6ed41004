// tensor.h — a float32, contiguous, row-major array with a shape, and (optionally) a gradient.
//
// Shape letters used across the project:
//   B batch, T time (sequence position), C channels (n_embd), V vocabulary, L layers,
//   NH heads, HS head size (C / NH).
//
// A Tensor is a handle: copying it shares the same value and gradient buffers (like a
// torch.Tensor). clone() makes a real copy. Gradients are allocated lazily (zeroed) the first
// time an op writes into them, and only for tensors that require a gradient.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tg {

// A tensor's dimensions, held inline: every op makes a shape for its output, and a step must
// not pay a heap allocation for each. Reads like a std::vector<int64_t>.
class Shape {
 public:
  static constexpr size_t kMaxRank = 8;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : Shape(dims.begin(), dims.end()) {}
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  void push_back(int64_t d);  // throws std::invalid_argument past kMaxRank dimensions
  size_t size() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  int64_t& operator[](size_t i) { return dims_[i]; }
  int64_t operator[](size_t i) const { return dims_[i]; }
  int64_t& back() { return dims_[rank_ - 1]; }
  int64_t back() const { return dims_[rank_ - 1]; }
  int64_t* begin() { return dims_; }
  int64_t* end() { return dims_ + rank_; }
  const int64_t* begin() const { return dims_; }
  const int64_t* end() const { return dims_ + rank_; }
  bool operator==(const Shape& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  int64_t dims_[kMaxRank] = {};
  size_t rank_ = 0;
};
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& shape);

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, bool requires_grad = false);  // uninitialised
  static Tensor zeros(const Shape& shape, bool requires_grad = false);
  static Tensor full(const Shape& shape, float value, bool requires_grad = false);
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values,
                            bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const;
  int64_t size(int axis) const;  // negative axis counts from the end
  int64_t numel() const;

  // A Tensor is a handle (like shared_ptr): const-ness of the handle does not freeze the data.
  float* data() const;

  bool requires_grad() const;
  void set_requires_grad(bool on);
  bool has_grad() const;      // a gradient buffer exists
  float* grad() const;        // allocates a zeroed gradient on first use (zeroes a discarded one)
  // For an op whose backward writes every element of this gradient: when no gradient exists
  // yet (or it was discarded), hands it out *without* zeroing it and sets *fresh, so the op can
  // store (=) instead of adding (+=) — one memset and one read of the buffer saved. Otherwise
  // as grad().
  float* grad_for_overwrite(bool* fresh) const;
  std::vector<float> grad_vector() const;  // zeros when there is none
  void zero_grad() const;     // fills an existing gradient with 0
  // Makes the gradient zero without touching its memory (torch's zero_grad(set_to_none)): the
  // next grad() zeroes it, the next grad_for_overwrite() hands it out fresh.
  void discard_grad() const;
  bool grad_discarded() const;

  Tensor clone() const;   // deep copy of the value, no gradient
  Tensor detach() const;  // shares the value, no gradient, does not require one

  // Same storage, another shape with the same element count (no gradient link: see op
  // `reshape` in ops.h for the differentiable version).
  Tensor view_as_shape(const Shape& shape) const;

  // Points this tensor's value (and gradient) at slices of bigger buffers: how a model keeps
  // all its parameters in one flat buffer. The owners keep the memory alive.
  void bind_storage(std::shared_ptr<float> value_owner, float* value,
                    std::shared_ptr<float> grad_owner, float* grad);

  bool same_as(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Throws std::invalid_argument("<what>: expected shape <expected>, got <shape>") on a mismatch
// ("<what>: tensor is undefined" for an undefined one).
void check_shape(const Tensor& t, const Shape& expected, const char* what);
// Rows of t as a matrix [rows, last dimension]; an empty last dimension (nothing to divide by)
// is refused, naming `what`.
int64_t rows_of(const Tensor& t, const char* what);

}  // namespace tg

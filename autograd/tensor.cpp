#include "autograd/tensor.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "autograd/pool.h"
#include "autograd/recycling_allocator.h"

namespace tg {

struct TensorImpl {
  Shape shape;
  int64_t numel = 0;
  std::shared_ptr<float> value_owner;
  float* value = nullptr;
  std::shared_ptr<float> grad_owner;
  float* grad = nullptr;
  bool grad_discarded = false;  // grad's memory holds stale values that count as zero
  bool requires_grad = false;
};

void Shape::push_back(int64_t d) {
  if (rank_ == kMaxRank)
    throw std::invalid_argument("a shape has at most " + std::to_string(kMaxRank) + " dimensions");
  dims_[rank_++] = d;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); i++) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(shape));
    n *= d;
  }
  return n;
}

Tensor Tensor::empty(const Shape& shape, bool requires_grad) {
  Tensor t;
  t.impl_ = std::allocate_shared<TensorImpl>(RecyclingAllocator<TensorImpl>());
  t.impl_->shape = shape;
  t.impl_->numel = shape_numel(shape);
  t.impl_->value_owner = pool_alloc(static_cast<size_t>(t.impl_->numel));
  t.impl_->value = t.impl_->value_owner.get();
  t.impl_->requires_grad = requires_grad;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, bool requires_grad) {
  return full(shape, 0.0f, requires_grad);
}

Tensor Tensor::full(const Shape& shape, float value, bool requires_grad) {
  Tensor t = empty(shape, requires_grad);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values,
                           bool requires_grad) {
  Tensor t = empty(shape, requires_grad);
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw std::invalid_argument("from_vector: shape " + shape_str(shape) + " needs " +
                                std::to_string(t.numel()) + " values, got " +
                                std::to_string(values.size()));
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

const Shape& Tensor::shape() const { return impl_->shape; }
int Tensor::ndim() const { return static_cast<int>(impl_->shape.size()); }
int64_t Tensor::size(int axis) const {
  int n = ndim();
  int a = axis < 0 ? axis + n : axis;
  if (a < 0 || a >= n)
    throw std::out_of_range("axis " + std::to_string(axis) + " out of range for shape " +
                            shape_str(impl_->shape));
  return impl_->shape[a];
}
int64_t Tensor::numel() const { return impl_->numel; }
float* Tensor::data() const { return impl_->value; }

bool Tensor::requires_grad() const { return impl_->requires_grad; }
void Tensor::set_requires_grad(bool on) { impl_->requires_grad = on; }
bool Tensor::has_grad() const { return impl_->grad != nullptr; }

float* Tensor::grad() const {
  bool fresh = false;
  float* g = grad_for_overwrite(&fresh);
  if (fresh) std::memset(g, 0, sizeof(float) * impl_->numel);
  return g;
}
float* Tensor::grad_for_overwrite(bool* fresh) const {
  *fresh = impl_->grad == nullptr || impl_->grad_discarded;
  if (!impl_->grad) {
    impl_->grad_owner = pool_alloc(static_cast<size_t>(impl_->numel));
    impl_->grad = impl_->grad_owner.get();
  }
  impl_->grad_discarded = false;
  return impl_->grad;
}

std::vector<float> Tensor::grad_vector() const {
  if (!impl_->grad || impl_->grad_discarded) return std::vector<float>(impl_->numel, 0.0f);
  return std::vector<float>(impl_->grad, impl_->grad + impl_->numel);
}
void Tensor::zero_grad() const {
  if (impl_->grad) std::memset(impl_->grad, 0, sizeof(float) * impl_->numel);
  impl_->grad_discarded = false;
}
void Tensor::discard_grad() const {
  if (impl_->grad) impl_->grad_discarded = true;
}
bool Tensor::grad_discarded() const { return impl_->grad_discarded; }

Tensor Tensor::clone() const {
  Tensor t = empty(impl_->shape);
  std::memcpy(t.data(), data(), sizeof(float) * impl_->numel);
  return t;
}

Tensor Tensor::detach() const {
  Tensor t;
  t.impl_ = std::allocate_shared<TensorImpl>(RecyclingAllocator<TensorImpl>());
  t.impl_->shape = impl_->shape;
  t.impl_->numel = impl_->numel;
  t.impl_->value_owner = impl_->value_owner;
  t.impl_->value = impl_->value;
  return t;
}

Tensor Tensor::view_as_shape(const Shape& shape) const {
  if (shape_numel(shape) != impl_->numel)
    throw std::invalid_argument("view: cannot view " + shape_str(impl_->shape) + " as " +
                                shape_str(shape));
  Tensor t = detach();
  t.impl_->shape = shape;
  return t;
}

void Tensor::bind_storage(std::shared_ptr<float> value_owner, float* value,
                          std::shared_ptr<float> grad_owner, float* grad) {
  impl_->value_owner = std::move(value_owner);
  impl_->value = value;
  impl_->grad_owner = std::move(grad_owner);
  impl_->grad = grad;
  impl_->grad_discarded = false;
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string(what) + ": tensor is undefined");
  if (t.shape() != expected)
    throw std::invalid_argument(std::string(what) + ": expected shape " + shape_str(expected) +
                                ", got " + shape_str(t.shape()));
}

int64_t rows_of(const Tensor& t, const char* what) {
  if (t.size(-1) == 0)
    throw std::invalid_argument(std::string(what) + ": input " + shape_str(t.shape()) +
                                " has no last dimension to work along");
  return t.numel() / t.size(-1);
}

}  // namespace tg

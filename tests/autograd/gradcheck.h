// gradcheck.h — compares an op's tape gradient with central finite differences.
//
// The scalar checked is L = Σ f(inputs) ⊙ R with a fixed random R, so every output element
// carries a distinct weight and a wrong index in a backward shows up. Differences are taken in
// float with a step of 1e-2 and L accumulated in double; the tolerance is set for that.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tape.h"

namespace tg::testing {

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f,
                            bool requires_grad = true) {
  Rng rng{seed, 0};
  Tensor t = Tensor::empty(shape, requires_grad);
  for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = scale * (2.0f * rng.next_uniform() - 1.0f);
  return t;
}

inline double weighted_sum(const Tensor& y, const std::vector<float>& r) {
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); i++) s += static_cast<double>(y.data()[i]) * r[i];
  return s;
}

// f maps the inputs to one output tensor. Checks d L / d input for every input that requires
// a gradient. Returns the largest |analytic − numeric| seen.
inline double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                        std::vector<Tensor> inputs, double atol = 2e-3, double rtol = 2e-2,
                        float step = 1e-2f) {
  // Analytic: one backward of L = Σ y ⊙ R.
  Tensor y0;
  {
    NoGrad no_grad;
    y0 = f(inputs);
  }
  std::vector<float> r(y0.numel());
  Rng rng{12345, 0};
  for (auto& v : r) v = 2.0f * rng.next_uniform() - 1.0f;
  for (auto& x : inputs) x.zero_grad();
  Tensor y = f(inputs);
  Tensor loss = sum(mul(y, Tensor::from_vector(y.shape(), r)));
  tape().backward(loss);

  double worst = 0.0;
  for (size_t k = 0; k < inputs.size(); k++) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    std::vector<float> analytic = x.grad_vector();
    for (int64_t i = 0; i < x.numel(); i++) {
      NoGrad no_grad;
      const float saved = x.data()[i];
      x.data()[i] = saved + step;
      double up = weighted_sum(f(inputs), r);
      x.data()[i] = saved - step;
      double down = weighted_sum(f(inputs), r);
      x.data()[i] = saved;
      double numeric = (up - down) / (2.0 * step);
      double err = std::abs(analytic[i] - numeric);
      worst = std::max(worst, err);
      EXPECT_LE(err, atol + rtol * std::abs(numeric))
          << "input " << k << " element " << i << ": analytic " << analytic[i] << " numeric "
          << numeric;
      if (err > atol + rtol * std::abs(numeric)) return worst;  // one report is enough
    }
  }
  return worst;
}

}  // namespace tg::testing

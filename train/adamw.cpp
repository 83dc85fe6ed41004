#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "autograd/parallel.h"
#include "autograd/profile.h"

namespace tg {

AdamW::AdamW(GPT& model, const AdamWConfig& config) : model_(model), config_(config) {
  int64_t at = 0;
  for (auto& [name, t] : model.named_parameters()) {
    if (t.requires_grad()) ranges_.push_back({at, at + t.numel(), t.ndim() >= 2});  // frozen: skipped
    at += t.numel();
  }
  state_.m.assign(model.flat_size(), 0.0f);
  state_.v.assign(model.flat_size(), 0.0f);
}

void AdamW::step(float lr, float grad_scale) {
  ProfileScope scope("adamw.step");
  state_.step++;
  const float b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
  const double t = static_cast<double>(state_.step);
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(b1, t)));
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(b2, t)));
  float* P = model_.flat_values();
  const float* G = model_.flat_grads();
  float *M = state_.m.data(), *V = state_.v.data();
  // Elements [begin, end): one vectorised pass (sqrt and division included). Every multiply-add
  // is an explicit fma, so an element rounds the same in the vector body and in the scalar
  // remainder, wherever a thread's share happens to start: bit-identical at any thread count.
  auto update = [=](int64_t begin, int64_t end, float decay) {
#pragma omp simd
    for (int64_t i = begin; i < end; i++) {
      // g·s only feeds products below, never a sum GCC could contract into fma(G, s, …): it
      // rounds as clipping's in-place g *= s did (a test compares the bits).
      const float g = G[i] * grad_scale;
      M[i] = std::fma(b1, M[i], (1.0f - b1) * g);
      V[i] = std::fma(b2, V[i], (1.0f - b2) * g * g);
      const float denom = std::fma(std::sqrt(V[i]), inv_sqrt_bc2, eps);
      P[i] = std::fma(P[i], decay, -(step_size * M[i] / denom));
    }
  };
  // One thread team for all parameters; each thread takes its share of every range (ranges
  // are disjoint, so no barrier is needed between them).
  const int threads = model_.flat_size() > kParallelMinWork ? num_threads() : 1;
  parallel_for(threads, threads > 1, [&](int64_t t) {
    for (const Range& r : ranges_) {
      const float decay = r.decay ? 1.0f - lr * config_.weight_decay : 1.0f;
      const int64_t n = r.end - r.begin;
      update(r.begin + n * t / threads, r.begin + n * (t + 1) / threads, decay);
    }
  });
}

float grad_norm(GPT& model) {
  const float* G = model.flat_grads();
  const double total =
      deterministic_sum(model.flat_size(), [G](int64_t i) { return static_cast<double>(G[i]) * G[i]; });
  return static_cast<float>(std::sqrt(total));
}

float clip_coefficient(float norm, float max_norm) {
  if (max_norm <= 0.0f) return 1.0f;
  // torch's max_norm / (total_norm + 1e-6) divides a number by a tensor, which torch computes
  // as the tensor's reciprocal times the number: two roundings, kept here.
  return std::min(1.0f, max_norm * (1.0f / (norm + 1e-6f)));
}

}  // namespace tg

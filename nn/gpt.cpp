#include "nn/gpt.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "autograd/parallel.h"
#include "autograd/pool.h"
#include "autograd/tape.h"

namespace tg {
namespace {
GPTConfig validated(const GPTConfig& c) {
  c.validate();
  return c;
}
// Shape checks: rank 2, not empty, T within block_size.
void check_ids(const GPTConfig& config, const Ids& ids, const char* what) {
  if (ids.shape.size() != 2 || shape_numel(ids.shape) != ids.numel())
    throw std::invalid_argument(std::string(what) + ": expected shape [B, T], got " +
                                shape_str(ids.shape));
  if (ids.shape[0] <= 0 || ids.shape[1] <= 0)
    throw std::invalid_argument(std::string(what) + ": empty batch " + shape_str(ids.shape));
  if (ids.shape[1] > config.block_size)
    throw std::invalid_argument(std::string(what) + ": sequence length T=" +
                                std::to_string(ids.shape[1]) + " exceeds block_size=" +
                                std::to_string(config.block_size));
}
}  // namespace

GPT::GPT(const GPTConfig& config, std::optional<uint64_t> seed)
    : wte(validated(config).vocab_size, config.n_embd),
      wpe(config.block_size, config.n_embd),
      ln_f(config.n_embd, config.bias),
      config_(config) {
  // Registered as nanoGPT nests them, so the dotted names are its state_dict keys.
  register_module("transformer.wte", &wte);
  register_module("transformer.wpe", &wpe);
  for (int64_t i = 0; i < config.n_layer; i++) {
    h.push_back(std::make_unique<Block>(config, i));
    register_module("transformer.h." + std::to_string(i), h.back().get());
  }
  register_module("transformer.ln_f", &ln_f);
  flatten_parameters();
  if (seed) init_weights(*seed);
}

void GPT::flatten_parameters() {
  NamedTensors params = named_parameters();
  flat_size_ = 0;
  for (auto& [_, t] : params) flat_size_ += t.numel();
  flat_values_ = pool_alloc(flat_size_);
  flat_grads_ = pool_alloc(flat_size_);
  std::memset(flat_grads_.get(), 0, sizeof(float) * flat_size_);
  int64_t at = 0;
  parameters_.clear();
  for (auto& [_, t] : params) {
    std::memcpy(flat_values_.get() + at, t.data(), sizeof(float) * t.numel());
    Tensor handle = t;
    handle.bind_storage(flat_values_, flat_values_.get() + at, flat_grads_,
                        flat_grads_.get() + at);
    parameters_.push_back(handle);
    at += t.numel();
  }
  // The per-parameter buffers just went back to the pool, unused from now on: give them back
  // to the system (124M parameters: 0.5 GB that would otherwise stay resident).
  pool_release_cached();
}

void GPT::init_weights(uint64_t seed) {
  Rng rng{seed, 0};
  const float residual_std = 0.02f / std::sqrt(2.0f * config_.n_layer);
  for (auto& [name, t] : named_parameters()) {
    float* v = t.data();
    if (name_ends_with(name, ".bias")) {
      std::fill_n(v, t.numel(), 0.0f);
    } else if (name.find(".ln_") != std::string::npos) {
      std::fill_n(v, t.numel(), 1.0f);
    } else {
      const float stddev = name_ends_with(name, "c_proj.weight") ? residual_std : 0.02f;
      // Scalar logf and cosf take ~25 ns a value: GPT-2's 124M would take 3 s on one thread.
      parallel_for(t.numel(), t.numel() > kParallelMinWork,
                   [&](int64_t i) { v[i] = stddev * rng.normal_at(i); });
      rng.advance(2 * t.numel());
    }
  }
}

NamedTensors GPT::state_dict() const {
  NamedTensors all = named_parameters();
  all.emplace_back("lm_head.weight", wte.weight);
  return all;
}

// zero_grad writes nothing: a memset of GPT-2's 496 MB of gradients took ~18 ms a step, and
// every weight-gradient GEMM then read the zeros back (beta = 1). Parameters that no backward
// pass reached (frozen, or unused) are zeroed here, before anything reads the flat buffer.
void GPT::zero_grad() {
  for (const Tensor& t : parameters_) t.discard_grad();
}
float* GPT::flat_grads() {
  for (const Tensor& t : parameters_)
    if (t.grad_discarded()) t.zero_grad();
  return flat_grads_.get();
}

void GPT::check_vocabulary(const int32_t* ids, int64_t count, const char* what) const {
  for (int64_t i = 0; i < count; i++)
    if (ids[i] < 0 || ids[i] >= config_.vocab_size)
      throw std::out_of_range(std::string(what) + ": token id " + std::to_string(ids[i]) +
                              " is outside the vocabulary (vocab_size=" +
                              std::to_string(config_.vocab_size) + ")");
}

GPTOutput GPT::forward(const Ids& ids, const Ids* targets, bool want_logits) {
  check_ids(config_, ids, "input ids");
  check_vocabulary(ids.data.data(), ids.numel(), "input ids");
  const int64_t T = ids.shape[1];
  if (targets && targets->shape != ids.shape)
    throw std::invalid_argument("targets: shape " + shape_str(targets->shape) +
                                " differs from input ids " + shape_str(ids.shape));
  const float p = training_ ? config_.dropout : 0.0f;

  if (positions_.numel() != T) {  // 0..T-1, kept between steps
    positions_.shape = {T};
    positions_.data.resize(T);
    for (int64_t t = 0; t < T; t++) positions_.data[t] = static_cast<int32_t>(t);
  }
  Tensor x = add(wte.forward(ids), wpe.forward(positions_));  // [B, T, C] + [T, C]
  x = dropout(x, p, dropout_rng_);
  for (auto& block : h) x = block->forward(x, p, dropout_rng_);
  x = ln_f.forward(x);
  GPTOutput out;
  if (targets && !want_logits) {
    out.loss = lm_head_cross_entropy(x, wte.weight, *targets, -1);
    return out;
  }
  out.logits = linear(x, wte.weight, Tensor());  // tied lm_head: [B, T, V]
  if (targets) out.loss = cross_entropy(out.logits, *targets, -1);
  return out;
}

}  // namespace tg

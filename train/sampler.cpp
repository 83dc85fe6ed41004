#include "train/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace tg {

int32_t sample_token(const float* logits, int64_t V, const SampleOptions& o, Rng& rng) {
  const float u = rng.next_uniform();
  // NaN would break the ranking (and the comparator's contract); +inf or all -inf leave no
  // proper distribution: the most likely token is the only sensible answer there.
  for (int64_t i = 0; i < V; i++)
    if (std::isnan(logits[i])) throw std::runtime_error("sampling: the logits contain NaN");
  const int32_t argmax = static_cast<int32_t>(std::max_element(logits, logits + V) - logits);
  const float top_logit = logits[argmax];
  if (o.temperature <= 0.0f || !std::isfinite(top_logit)) return argmax;  // first max
  const bool whole_vocabulary = (o.top_k <= 0 || o.top_k >= V) && o.top_p >= 1.0f;
  if (whole_vocabulary) {  // no ranking needed: walk the distribution in id order
    double total = 0.0;  // ≥ 1: the top logit's own term
    for (int64_t i = 0; i < V; i++) total += std::exp((logits[i] - top_logit) / o.temperature);
    const double target = u * total;
    double running = 0.0;
    for (int64_t i = 0; i < V; i++) {
      running += std::exp((logits[i] - top_logit) / o.temperature);
      if (target < running) return static_cast<int32_t>(i);
    }
    return static_cast<int32_t>(V - 1);
  }
  // Candidates ranked by logit, most likely first, ties by id; only the top k need ranking.
  int64_t keep = (o.top_k > 0 && o.top_k < V) ? o.top_k : V;
  // Scratch kept between calls: a generated token allocates nothing.
  static thread_local std::vector<int32_t> order;
  static thread_local std::vector<double> p;
  order.resize(V);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  p.resize(keep);
  double total = 0.0;
  for (int64_t i = 0; i < keep; i++)
    total += p[i] = std::exp((logits[order[i]] - logits[order[0]]) / o.temperature);
  if (o.top_p < 1.0f) {  // nucleus: cut after the cumulative probability reaches top_p
    double cumulative = 0.0;
    for (int64_t i = 0; i < keep; i++) {
      cumulative += p[i] / total;
      if (cumulative >= o.top_p) {
        keep = i + 1;
        break;
      }
    }
    total = std::accumulate(p.begin(), p.begin() + keep, 0.0);
  }
  double target = u * total, running = 0.0;
  for (int64_t i = 0; i < keep; i++) {
    running += p[i];
    if (target < running) return order[i];
  }
  return order[keep - 1];
}

std::vector<int32_t> generate(GPT& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& options,
                              const std::function<void(int32_t)>& on_token) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt is empty");
  const int64_t T = model.config().block_size, model_V = model.config().vocab_size;
  // Ids past the tokenizer (a vocabulary padded to a round size, as nanoGPT's 50304) were
  // never a target, but are still scored: they must not be drawn.
  const int64_t V = options.vocab_limit > 0 ? std::min(options.vocab_limit, model_V) : model_V;
  // Both vectors have their room before the first token, so generating one allocates nothing
  // (the context never holds more than T + 1 ids; a run's ids past 2^20 grow as usual).
  std::vector<int32_t> context;
  context.reserve(T + 1);
  context.assign(prompt.end() - std::min<int64_t>(prompt.size(), T), prompt.end());
  Rng rng{options.seed, 0};
  KVCache cache = model.new_kv_cache();
  Tensor logits;
  auto prefill = [&] {  // (re)encode the whole context; logits of its last position remain
    cache.length = 0;
    logits = model.forward_tokens(context, cache);
  };
  prefill();
  std::vector<int32_t> produced;
  produced.reserve(std::min<int64_t>(options.max_new_tokens, int64_t{1} << 20));
  for (int64_t n = 0; n < options.max_new_tokens; n++) {
    const int32_t next = sample_token(logits.data(), V, options, rng);
    produced.push_back(next);
    if (on_token) on_token(next);
    if (next == options.stop_token) break;
    context.push_back(next);
    if (cache.length == T) {
      context.erase(context.begin(), context.end() - (T + 1) / 2);
      prefill();
    } else {
      logits = model.forward_step(next, cache);
    }
  }
  return produced;
}

}  // namespace tg

#include "train/bench.h"

#include <Eigen/Core>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <vector>

#include "autograd/gemm.h"
#include "autograd/parallel.h"
#include "autograd/pool.h"
#include "autograd/tape.h"
#include "nn/gpt.h"
#include "train/adamw.h"
#include "train/sampler.h"

// Defined by the tapegpt executable (cli/heap_count.cpp); absent in other programs.
extern "C" uint64_t tapegpt_heap_allocations() __attribute__((weak));

namespace tg {
namespace {
uint64_t heap_allocations() { return tapegpt_heap_allocations ? tapegpt_heap_allocations() : 0; }
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}
}  // namespace

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Page faults that needed no disk (fresh pages mapped in): what memory handed back to the
// system and taken again costs.
int64_t minor_page_faults() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double measure_gemm_gflops(int64_t n) {
  // From the pool, as the model's tensors are: huge pages where the system gives them. On
  // vectors of 4 KB pages it read ~4% lower (1 thread, 7 alternating runs: medians 173 and 180
  // GFLOP/s), under what mini's step itself reached in some rounds (session 17: mfu to 1.01).
  const size_t count = static_cast<size_t>(n * n);
  const std::shared_ptr<float> a = pool_alloc(count), b = pool_alloc(count), c = pool_alloc(count);
  std::fill_n(a.get(), count, 0.5f);
  std::fill_n(b.get(), count, 0.25f);
  auto product = [&] {
    gemm(false, false, n, n, n, 1.0f, a.get(), n, b.get(), n, 0.0f, c.get(), n);
  };
  product();  // warm-up
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    product();
    best = std::min(best, ms_since(t0));
  }
  return 2.0 * n * n * n / (best * 1e-3) / 1e9;
}

double measure_read_gb_per_s(int64_t megabytes) {
  const int64_t n = megabytes * (1 << 20) / 4;
  // From the pool, as the weights are: huge pages where the system gives them (a 4 KB-page
  // buffer read 25-30% slower here, under the weights' own speed). Written once: every page
  // is mapped before timing.
  const std::shared_ptr<float> buffer = pool_alloc(static_cast<size_t>(n));
  float* a = buffer.get();
  std::fill_n(a, n, 1.0f);
  const int threads = num_threads();
  std::vector<double> partial(threads);
  double best = 1e30, total = 0.0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int p = 0; p < threads; p++) {
      // 64 floats a step into 64 sums: four vectors' worth of independent adds (a sum of one
      // chain waits on each add, and read ~15% under the memory's speed here).
      const int64_t begin = n * p / threads / 64 * 64, end = n * (p + 1) / threads / 64 * 64;
      Eigen::Array<float, 64, 1> sums = Eigen::Array<float, 64, 1>::Zero();
      for (int64_t i = begin; i < end; i += 64) sums += Eigen::Map<const Eigen::Array<float, 64, 1>>(a + i);
      partial[p] = sums.sum();
    }
    best = std::min(best, ms_since(t0));
    for (double s : partial) total += s;  // keeps the sums alive
  }
  return total > 0 ? 4.0 * n / (best * 1e-3) / 1e9 : 0.0;
}

BenchResult bench_training(const GPTConfig& c, const BenchStep& step, int64_t steps,
                           int64_t warmup, uint64_t seed, bool profile) {
  GPT model(c, seed);
  AdamWConfig adamw;
  adamw.beta1 = step.beta1;
  adamw.beta2 = step.beta2;
  adamw.weight_decay = step.weight_decay;
  AdamW opt(model, adamw);
  const int64_t B = step.batch_size, T = c.block_size, accum = step.accumulation;
  // A few fixed random batches, cycled (as the PyTorch reference does).
  Rng rng{seed + 1, 0};
  std::vector<Ids> xs, ys;
  for (int i = 0; i < 8; i++) {
    Ids x{{B, T}, std::vector<int32_t>(B * T)}, y{{B, T}, std::vector<int32_t>(B * T)};
    for (auto& v : x.data) v = static_cast<int32_t>(rng.next_bits() % c.vocab_size);
    for (auto& v : y.data) v = static_cast<int32_t>(rng.next_bits() % c.vocab_size);
    xs.push_back(std::move(x));
    ys.push_back(std::move(y));
  }
  BenchResult r;
  std::vector<double> step_ms, fwd_ms, bwd_ms, opt_ms;
  for (auto* v : {&step_ms, &fwd_ms, &bwd_ms, &opt_ms})
    v->reserve(steps);  // growing them inside the loop would be counted as the step's allocations
  size_t fresh_before = 0;
  uint64_t heap_before = 0;
  int64_t faults_before = 0;
  set_profiling(profile);  // from the warm-up on, so that the table has every op's name
  for (int64_t it = 0; it < warmup + steps; it++) {
    if (it == warmup) {
      fresh_before = pool_stats().fresh_allocations;
      heap_before = heap_allocations();
      faults_before = minor_page_faults();
      profile_reset();
    }
    auto t0 = Clock::now();
    model.zero_grad();
    double f = 0.0, b = 0.0, loss = 0.0;
    for (int64_t micro = 0; micro < accum; micro++) {
      const int64_t batch = (it * accum + micro) % 8;
      auto t1 = Clock::now();
      GPTOutput out = model.forward(xs[batch], &ys[batch], /*want_logits=*/false);
      f += ms_since(t1);
      loss += out.loss.data()[0] / accum;
      auto t2 = Clock::now();
      tape().backward(accum == 1 ? out.loss : scale(out.loss, 1.0f / accum));
      b += ms_since(t2);
    }
    auto t3 = Clock::now();
    opt.step(step.learning_rate,
             step.grad_clip > 0.0f ? clip_coefficient(grad_norm(model), step.grad_clip) : 1.0f);
    double o = ms_since(t3);
    double total = ms_since(t0);
    if (it == 0) r.loss_first = loss;
    r.loss_last = loss;
    if (it >= warmup) {
      step_ms.push_back(total);
      fwd_ms.push_back(f);
      bwd_ms.push_back(b);
      opt_ms.push_back(o);
    }
  }
  set_profiling(false);
  r.heap_allocations_per_step =
      tapegpt_heap_allocations ? static_cast<double>(heap_allocations() - heap_before) / steps : -1;
  r.profile = profile_table();
  r.fresh_buffers_steady = static_cast<int64_t>(pool_stats().fresh_allocations - fresh_before);
  r.page_faults_per_step = static_cast<double>(minor_page_faults() - faults_before) / steps;
  r.params = model.num_parameters();
  r.block_size = T;
  r.step = step;
  r.steps = steps;
  r.threads = num_threads();
  r.step_ms_median = median(step_ms);
  r.step_ms_min = *std::min_element(step_ms.begin(), step_ms.end());
  r.fwd_ms_median = median(fwd_ms);
  r.bwd_ms_median = median(bwd_ms);
  r.opt_ms_median = median(opt_ms);
  r.tokens_per_s = B * T * accum / (r.step_ms_median * 1e-3);
  r.flops_per_token = 6.0 * r.params + 12.0 * c.n_layer * c.n_embd * T;
  r.achieved_gflops = r.flops_per_token * r.tokens_per_s / 1e9;
  r.peak_rss_mb = peak_rss_mb();
  r.gemm_peak_gflops = measure_gemm_gflops();
  r.mfu = r.achieved_gflops / r.gemm_peak_gflops;
  r.gemm_engine = gemm_engine();
  return r;
}

GenerationBenchResult bench_generation(const GPTConfig& config, int64_t prompt_len,
                                       SampleOptions options, int64_t runs, int64_t warmup,
                                       uint64_t seed) {
  GPT model(config, seed);
  model.set_training(false);
  Rng rng{seed + 1, 0};
  std::vector<int32_t> prompt(prompt_len);
  for (auto& t : prompt) t = static_cast<int32_t>(rng.next_bits() % config.vocab_size);
  std::vector<double> ms;
  // Allocations while tokens are produced: from the first token's callback to the last one's
  // (the prompt's encoding before, and the KV cache's release after, excluded).
  uint64_t heap_at_first = 0, heap_at_last = 0, heap_in_loop = 0;
  int64_t tokens_in_loop = 0;
  for (int64_t i = 0; i < warmup + runs; i++) {
    options.seed = seed + i;
    int64_t produced = 0;
    auto on_token = [&](int32_t) {
      heap_at_last = heap_allocations();
      if (produced++ == 0) heap_at_first = heap_at_last;
    };
    auto t0 = Clock::now();
    generate(model, prompt, options, on_token);
    if (i >= warmup) {
      ms.push_back(ms_since(t0));
      heap_in_loop += heap_at_last - heap_at_first;
      tokens_in_loop += produced - 1;
    }
  }
  const double heap_per_token =
      tapegpt_heap_allocations && tokens_in_loop > 0
          ? static_cast<double>(heap_in_loop) / tokens_in_loop
          : -1;
  GenerationBenchResult r;
  r.ms_median = median(ms);
  r.tokens_per_s = options.max_new_tokens / (r.ms_median * 1e-3);
  r.peak_rss_mb = peak_rss_mb();
  // Every weight is read once per token: wte by the head (its input row is one row, ignored
  // like wpe's one row).
  r.weight_bytes_per_token = 4.0 * (model.num_parameters() - config.block_size * config.n_embd);
  r.achieved_gb_per_s = r.weight_bytes_per_token * r.tokens_per_s / 1e9;
  r.heap_allocations_per_token = heap_per_token;
  r.read_gb_per_s = measure_read_gb_per_s();
  return r;
}

double bench_attention(int64_t B, int64_t T, int64_t C, int n_head, int window, int64_t runs) {
  Tensor qkv = Tensor::empty({B, T, 3 * C}, true);
  Rng rng{5, 0};
  for (int64_t i = 0; i < qkv.numel(); i++) qkv.data()[i] = rng.next_uniform() - 0.5f;
  std::vector<double> ms;
  for (int64_t i = 0; i < runs + 1; i++) {
    auto t0 = Clock::now();
    Tensor y = causal_attention(qkv, n_head, window);
    tape().backward(sum(y));
    if (i > 0) ms.push_back(ms_since(t0));  // the first run is warm-up
  }
  return median(ms);
}

std::string bench_json(const GPTConfig& c, const BenchResult& r) {
  std::ostringstream o;
  o.precision(6);
  o << "{\"impl\": \"tapegpt\", \"n_layer\": " << c.n_layer << ", \"n_head\": " << c.n_head
    << ", \"n_embd\": " << c.n_embd << ", \"block_size\": " << r.block_size
    << ", \"batch_size\": " << r.step.batch_size
    << ", \"gradient_accumulation_steps\": " << r.step.accumulation
    << ", \"grad_clip\": " << r.step.grad_clip << ", \"dropout\": " << c.dropout
    << ", \"vocab_size\": " << c.vocab_size
    << ", \"attention\": \"" << c.attention << "\", \"attn_window\": " << c.attn_window
    << ", \"threads\": " << r.threads << ", \"params\": " << r.params
    << ", \"steps\": " << r.steps << ", \"step_ms_median\": " << r.step_ms_median
    << ", \"step_ms_min\": " << r.step_ms_min << ", \"fwd_ms_median\": " << r.fwd_ms_median
    << ", \"bwd_ms_median\": " << r.bwd_ms_median << ", \"opt_ms_median\": " << r.opt_ms_median
    << ", \"tokens_per_s\": " << r.tokens_per_s << ", \"flops_per_token\": " << r.flops_per_token
    << ", \"achieved_gflops\": " << r.achieved_gflops
    << ", \"gemm_peak_gflops\": " << r.gemm_peak_gflops << ", \"mfu\": " << r.mfu
    << ", \"peak_rss_mb\": " << r.peak_rss_mb << ", \"loss_first\": " << r.loss_first
    << ", \"loss_last\": " << r.loss_last
    << ", \"fresh_buffers_steady\": " << r.fresh_buffers_steady
    << ", \"heap_allocations_per_step\": " << r.heap_allocations_per_step
    << ", \"page_faults_per_step\": " << r.page_faults_per_step << ", \"gemm_engine\": \""
    << r.gemm_engine << "\"";
  if (!r.profile.empty()) {  // --profile: each op's ms per step
    o << ", \"profile_ms_per_step\": {";
    for (size_t i = 0; i < r.profile.size(); i++)
      o << (i ? ", \"" : "\"") << r.profile[i].name << "\": " << 1e3 * r.profile[i].seconds / r.steps;
    o << "}";
  }
  o << "}";
  return o.str();
}

}  // namespace tg

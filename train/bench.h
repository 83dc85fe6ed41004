// bench.h — steady-state training-step timing (the protocol in bench/RESULTS.md §1).
#pragma once
#include <string>

#include "autograd/profile.h"
#include "nn/gpt_config.h"
#include "train/sampler.h"

namespace tg {

// What a timed step does around the model's forward and backward (dropout is the config's).
// The defaults are the performance protocol's step, as the PyTorch reference takes it: one
// micro-batch, no clipping, a constant rate; a training config's own are timed as it gives them.
struct BenchStep {
  int64_t batch_size = 12;
  int64_t accumulation = 1;  // micro-batches per step
  float learning_rate = 3e-4f;
  float grad_clip = 0.0f;    // 0: no clipping (and no gradient-norm pass)
  float beta1 = 0.9f, beta2 = 0.95f, weight_decay = 0.1f;
};

struct BenchResult {
  int64_t params = 0, block_size = 0, steps = 0, threads = 0;
  BenchStep step;  // what was timed (its batch_size too)
  double step_ms_median = 0, step_ms_min = 0;
  double fwd_ms_median = 0, bwd_ms_median = 0, opt_ms_median = 0;
  double tokens_per_s = 0;
  double flops_per_token = 0;   // 6·N + 12·L·C·T
  double achieved_gflops = 0;
  double gemm_peak_gflops = 0;  // measured in the same run
  double mfu = 0;               // achieved / gemm peak
  double peak_rss_mb = 0;
  double loss_first = 0, loss_last = 0;
  int64_t fresh_buffers_steady = 0;  // pool buffers taken from the system after warm-up
  double heap_allocations_per_step = -1;  // malloc / operator new calls per timed step (-1: not counted)
  double page_faults_per_step = 0;        // minor page faults per timed step
  std::string gemm_engine;
  std::vector<OpTime> profile;  // per-op time over the timed steps (with profile = true)
};

// Full training steps (forward + loss + backward per micro-batch, then AdamW) on random tokens.
BenchResult bench_training(const GPTConfig& config, const BenchStep& step, int64_t steps,
                           int64_t warmup, uint64_t seed, bool profile = false);

struct GenerationBenchResult {
  double ms_median = 0, tokens_per_s = 0, peak_rss_mb = 0;
  double weight_bytes_per_token = 0;  // parameters read per generated token (fp32)
  double achieved_gb_per_s = 0;       // weight_bytes_per_token × tokens/s: vs memory bandwidth
  double read_gb_per_s = 0;           // this machine's memory read bandwidth, measured in the run
  double heap_allocations_per_token = -1;  // per token after the prompt (cache rebuilds included)
};

// Batch 1, a random prompt of prompt_len tokens, sampling.max_new_tokens new tokens with the KV
// cache (the PyTorch reference's generation benchmark, which recomputes without a cache),
// drawn as `sampling` says (top_k, top_p, temperature; its seed is set per run).
GenerationBenchResult bench_generation(const GPTConfig& config, int64_t prompt_len,
                                       SampleOptions sampling, int64_t runs, int64_t warmup,
                                       uint64_t seed);

// Forward + backward of one causal_attention op on random qkv [B, T, 3C]: median ms.
// window 0 = dense. (The attention op alone: the c_attn/c_proj projections cost the same for
// dense and local layers.)
double bench_attention(int64_t B, int64_t T, int64_t C, int n_head, int window, int64_t runs);

// GFLOP/s of an n×n×n fp32 product through the same gemm() the model uses.
double measure_gemm_gflops(int64_t n = 2048);
// Best-of-5 read bandwidth (GB/s) summing a buffer far bigger than the caches, all threads:
// the ceiling for generation, which reads every weight once per token.
double measure_read_gb_per_s(int64_t megabytes = 256);

// Peak resident memory of this process so far, MB.
double peak_rss_mb();

std::string bench_json(const GPTConfig& config, const BenchResult& r);

}  // namespace tg

// tapegpt bench — steady-state training step time, tokens/s, GFLOP/s, MFU, peak memory.
#include <cmath>
#include <cstdio>
#include <string>
#include <stdexcept>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/train_options.h"
#include "data/tokenizer.h"
#include "autograd/parallel.h"
#include "train/bench.h"
#include "train/checkpoint.h"
#include "train/memory_estimate.h"
#include "train/train_config.h"

namespace tg::cli {
namespace {

struct BenchArgs {
  TrainConfig train;  // a training config file works as it is: shape, batch, dropout, accumulation, clipping, AdamW
  int64_t steps = 20;
  int64_t warmup = 3;
  bool json = false;
  bool profile = false;
  std::string mode = "train";
  int64_t prompt_len = 16, gen_tokens = 128, top_k = 0;
  float top_p = 1.0f;
  bool vocab_size_given = false;  // else a --dataset's tokenizer sets it, as in `train`
  std::vector<std::string> asked_shape;  // shape options given, checked against an init checkpoint's
};

void run_bench(const BenchArgs& a) {
  require_at_least("bench: --steps", a.steps, 1);
  require_at_least("bench: --warmup", a.warmup, 0);
  require_at_least("bench: --batch_size", a.train.batch_size, 1);
  require_at_least("bench: --prompt_len", a.prompt_len, 1);
  require_at_least("bench: --gen_tokens", a.gen_tokens, 1);
  require_at_least("bench: --top_k", a.top_k, 0);
  TrainConfig checked = a.train;  // the training options a config file may hold: checked as
  checked.decay_lr = false;       // `train` does, but for the schedule (bench's rate is constant)
  validate(checked);
  if (a.train.freeze_embeddings || a.train.freeze_layers > 0)
    throw std::invalid_argument("freeze_embeddings, freeze_layers: bench times full training "
                                "steps, every parameter learning (leave them out)");
  GPTConfig model = a.train.model;
  const int64_t batch_size = a.train.batch_size;
  if (!a.train.init.empty()) {  // a fine-tuning config: the model is the checkpoint's shape
    GPTConfig from = read_checkpoint(a.train.init).config;
    const ShapeDifference d = shape_difference(from, model, a.asked_shape);
    if (!d.key.empty())
      throw std::invalid_argument(d.key + "=" + d.asked + ": the init checkpoint " + a.train.init +
                                  " has " + d.held);
    from.dropout = model.dropout;  // a training choice, not the checkpoint's
    model = from;
  } else if (model.vocab_size == 0 && a.train.dataset.empty())
    throw std::invalid_argument("vocab_size: give --vocab_size or a --dataset with a tokenizer");
  if (a.train.init.empty() && !a.train.dataset.empty()) {  // its tokenizer sets vocab_size, as in `train`
    const int64_t vocab =
        load_tokenizer((std::filesystem::path(a.train.dataset) / "tokenizer.json").string())->vocab_size();
    if (!a.vocab_size_given) model.vocab_size = vocab;
  }
  model.validate();
  if (a.mode != "attention")  // (the attention mode builds one op, not a model)
    require_memory_for(model, a.mode == "generate" ? 1 : batch_size, /*training=*/a.mode == "train");
  if (a.mode == "attention") {  // one attention op, forward + backward, batch_size sequences
    const double ms = bench_attention(batch_size, model.block_size, model.n_embd,
                                      static_cast<int>(model.n_head),
                                      model.attention == "local" ? model.layer_window(0) : 0,
                                      a.steps);
    std::printf("{\"impl\": \"tapegpt\", \"mode\": \"attention\", \"attention\": \"%s\", "
                "\"attn_window\": %ld, \"block_size\": %ld, \"n_embd\": %ld, \"n_head\": %ld, "
                "\"batch_size\": %ld, \"fwd_bwd_ms_median\": %.3f, \"peak_rss_mb\": %.1f}\n",
                model.attention.c_str(), (long)model.attn_window, (long)model.block_size,
                (long)model.n_embd, (long)model.n_head, (long)batch_size, ms, peak_rss_mb());
    return;
  }
  if (a.mode == "generate") {
    if (!(a.top_p > 0.0f && a.top_p <= 1.0f))
      throw std::invalid_argument("bench: --top_p must be in (0, 1], got " + std::to_string(a.top_p));
    SampleOptions sampling;
    sampling.max_new_tokens = a.gen_tokens;
    sampling.top_k = a.top_k;
    sampling.top_p = a.top_p;
    GenerationBenchResult g =
        bench_generation(model, a.prompt_len, sampling, a.steps, a.warmup, a.train.seed);
    std::printf("{\"impl\": \"tapegpt\", \"mode\": \"generate\", \"kv_cache\": true, "
                "\"threads\": %d, \"n_layer\": %ld, \"n_embd\": %ld, \"vocab_size\": %ld, \"block_size\": %ld, "
                "\"prompt_len\": %ld, \"gen_tokens\": %ld, \"top_k\": %ld, \"top_p\": %g, \"gen_ms_median\": %.3f, "
                "\"tokens_per_s\": %.2f, \"weight_mb_per_token\": %.1f, "
                "\"weight_gb_per_s\": %.2f, \"read_gb_per_s\": %.2f, \"bandwidth_fraction\": %.3f, "
                "\"heap_allocations_per_token\": %.2f, \"peak_rss_mb\": %.1f}\n",
                num_threads(), (long)model.n_layer, (long)model.n_embd, (long)model.vocab_size,
                (long)model.block_size, (long)a.prompt_len, (long)a.gen_tokens, (long)a.top_k, a.top_p, g.ms_median,
                g.tokens_per_s, g.weight_bytes_per_token / 1e6, g.achieved_gb_per_s,
                g.read_gb_per_s, g.achieved_gb_per_s / g.read_gb_per_s,
                g.heap_allocations_per_token, g.peak_rss_mb);
    return;
  }
  BenchStep step;  // the config's step: accumulation, clipping, AdamW (dropout is in model)
  step.batch_size = batch_size;
  step.accumulation = a.train.gradient_accumulation_steps;
  step.learning_rate = a.train.learning_rate;
  step.grad_clip = a.train.grad_clip;
  step.beta1 = a.train.beta1;
  step.beta2 = a.train.beta2;
  step.weight_decay = a.train.weight_decay;
  BenchResult r = bench_training(model, step, a.steps, a.warmup, a.train.seed, a.profile);
  if (a.json) {
    std::printf("%s\n", bench_json(model, r).c_str());
    return;
  }
  std::printf("model        L%ld H%ld C%ld T%ld V%ld, %ld parameters, batch %ld, %ld threads\n",
              (long)model.n_layer, (long)model.n_head, (long)model.n_embd,
              (long)model.block_size, (long)model.vocab_size, (long)r.params,
              (long)batch_size, (long)r.threads);
  if (step.accumulation != 1 || step.grad_clip > 0.0f || model.dropout > 0.0f)  // not the protocol's
    std::printf("step is      %ld micro-batch(es), dropout %g, grad_clip %g\n",
                (long)step.accumulation, model.dropout, step.grad_clip);
  std::printf("step         %.2f ms median (min %.2f): forward %.2f, backward %.2f, AdamW %.2f\n",
              r.step_ms_median, r.step_ms_min, r.fwd_ms_median, r.bwd_ms_median,
              r.opt_ms_median);
  std::printf("throughput   %.0f tokens/s, %.1f GFLOP/s, MFU %.1f%% of a %.0f GFLOP/s GEMM\n",
              r.tokens_per_s, r.achieved_gflops, 100 * r.mfu, r.gemm_peak_gflops);
  const std::string allocations =
      r.heap_allocations_per_step < 0
          ? std::string("heap allocations not counted in this build")
          : std::to_string(std::lround(r.heap_allocations_per_step)) +
                " heap allocations (malloc and new, every library)";
  std::printf("memory       peak RSS %.0f MB; per step after warm-up: %ld new tensor buffers, "
              "%s, %.1f page faults\n",
              r.peak_rss_mb, (long)r.fresh_buffers_steady, allocations.c_str(),
              r.page_faults_per_step);
  std::printf("gemm engine  %s\n", r.gemm_engine.c_str());
  if (a.profile) {  // per step; the rest of the step is model/tape glue and zero_grad
    std::printf("\nper-op profile (ms per step, share of the median step)\n");
    for (const OpTime& t : r.profile)
      std::printf("  %-24s %8.2f ms %5.1f%%  (%ld calls/step)\n", t.name.c_str(),
                  1e3 * t.seconds / a.steps, 100 * 1e3 * t.seconds / a.steps / r.step_ms_median,
                  static_cast<long>(t.calls / a.steps));
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  GPTConfig& baby = a->train.model;  // the `baby` shape of the performance protocol by default
  baby.vocab_size = 65;
  baby.block_size = 64;
  baby.n_layer = 4;
  baby.n_head = 4;
  baby.n_embd = 128;
  a->train.batch_size = 12;
  a->train.grad_clip = 0.0f;       // the protocol's step (and the PyTorch reference's) clips nothing
  a->train.learning_rate = 3e-4f;  // constant: bench has no schedule
  CLI::App* cmd = app.add_subcommand("bench", "time full training steps on random tokens");
  auto config_file = add_config_option(cmd);
  add_train_options(cmd, a->train);
  // A training config file works here as it is; what a run has beyond one step is not timed.
  for (const char* unused : {"--pairs", "--val_pairs", "--pack_pairs", "--stride", "--shuffle",
                             "--max_iters", "--min_lr", "--warmup_iters", "--lr_decay_iters",
                             "--decay_lr", "--eval_interval", "--eval_iters", "--log_interval",
                             "--keep_last", "--out_dir"})
    cmd->get_option(unused)->description("(a training run's; bench does not use it)");
  cmd->get_option("--init")->description("fine-tuning: the model takes this checkpoint's shape");
  cmd->get_option("--learning_rate")->description("constant learning rate of the timed steps");
  cmd->get_option("--dataset")->description("its tokenizer sets vocab_size (bench trains on random tokens)");
  cmd->add_option("--steps", a->steps, "timed steps")->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "untimed steps first")->capture_default_str();
  cmd->add_flag("--json", a->json, "one JSON line instead of text (the generate and attention modes always print one)");
  cmd->add_flag("--profile", a->profile, "time each op (forward and backward) and print the table");
  cmd->add_option("--mode", a->mode, "train: training steps; generate: KV-cached generation; attention: one attention op (--attention dense|local)")
      ->check(CLI::IsMember({"train", "generate", "attention"}))->capture_default_str();
  cmd->add_option("--prompt_len", a->prompt_len, "generate: prompt tokens")->capture_default_str();
  cmd->add_option("--gen_tokens", a->gen_tokens, "generate: new tokens")->capture_default_str();
  cmd->add_option("--top_k", a->top_k, "generate: sample from the k most likely (0: all)")
      ->capture_default_str();
  cmd->add_option("--top_p", a->top_p, "generate: sample from the smallest set reaching p (1: all)")
      ->capture_default_str();
  cmd->callback([cmd, a, config_file] {
    const std::set<std::string> from_file = apply_config_file(cmd, *config_file);
    a->vocab_size_given = cmd->get_option("--vocab_size")->count() > 0;
    for (const std::string& key : GPTConfig::shape_option_names())
      if (cmd->get_option("--" + key)->count() > 0) a->asked_shape.push_back(key);
    naming_config_file(cmd, from_file, *config_file, [&] { run_bench(*a); });
  });
}

}  // namespace tg::cli

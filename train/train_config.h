// train_config.h — every option of a training or fine-tuning run, with nanoGPT's key names.
// One source of truth: cli/train_options.h turns each field into a command-line option and a
// config-file key of the same name; the resolved config is written to out_dir/config.toml and
// into every checkpoint.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/gpt_config.h"

namespace tg {

struct TrainConfig {
  GPTConfig model;             // n_layer n_head n_embd block_size vocab_size bias dropout attention attn_window
                               // (vocab_size 0 = take it from the dataset's tokenizer)
  // data
  std::string dataset;         // directory made by `tapegpt prepare` (train.bin, val.bin, tokenizer.json)
  std::string pairs;           // fine-tuning: (prompt, completion) JSONL/TSV file instead of `dataset`
  std::string val_pairs;       // fine-tuning: held-out pairs for evaluation (default: none)
  bool pack_pairs = false;     // fine-tuning: several pairs per row (less padding, same masked loss)
  int64_t stride = 1;          // sliding-window stride over the token stream (1 = every offset)
  bool shuffle = true;         // seeded shuffle of the examples; false = sequential order
  // optimisation (nanoGPT's defaults where it has them)
  int64_t batch_size = 12;     // B: sequences per micro-batch
  int64_t gradient_accumulation_steps = 1;  // micro-batches per optimizer step
  int64_t max_iters = 5000;    // optimizer steps in total
  float learning_rate = 6e-4f; // peak LR, after warm-up
  float min_lr = 6e-5f;        // LR at the end of the cosine decay (~learning_rate/10 per Chinchilla)
  int64_t warmup_iters = 100;  // linear warm-up steps
  int64_t lr_decay_iters = 0;  // cosine decay length; 0 = max_iters
  bool decay_lr = true;        // false = constant learning_rate
  float weight_decay = 0.1f;
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float grad_clip = 1.0f;      // clip the global gradient norm to this; 0 = off
  // evaluation, logging, checkpoints
  int64_t eval_interval = 250; // evaluate (and checkpoint) every this many steps
  int64_t eval_iters = 20;     // validation batches per evaluation
  int64_t log_interval = 10;   // a metrics line every this many steps
  int64_t keep_last = 2;       // checkpoints kept besides best.h5
  std::string out_dir = "out";
  uint64_t seed = 1337;
  // --resume continues the run's random streams: a seed asked for must be the run's own (the
  // CLI sets this only when the user gave one; otherwise the run's seed is taken).
  bool seed_asked = true;
  // fine-tuning
  std::string init;            // checkpoint whose weights (and tokenizer) to start from
  bool freeze_embeddings = false;  // keep wte (and so the tied lm_head) and wpe fixed
  int64_t freeze_layers = 0;       // keep the first k blocks fixed
  // Model options the run asked for, checked against a resumed checkpoint (the CLI lists only
  // those the user set; the others come from the checkpoint).
  std::vector<std::string> asked_model_options = GPTConfig::shape_option_names();
};

// Throws std::invalid_argument "<name> must be at least <lo>, got <value>" when value < lo: the
// check every command makes of its counts (steps, batch sizes, samples, ...).
void require_at_least(const std::string& name, int64_t value, int64_t lo);

// Throws std::invalid_argument naming the first option whose value makes no sense (a negative
// learning rate, a beta outside [0, 1), max_iters 0, both `dataset` and `pairs`, ...).
void validate(const TrainConfig& config);

// nanoGPT's schedule: linear warm-up to learning_rate, cosine decay to min_lr at
// lr_decay_iters, min_lr after.
float learning_rate_at(const TrainConfig& config, int64_t iteration);

}  // namespace tg

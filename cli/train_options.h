// train_options.h — TrainConfig's fields as options of `train` / `finetune`: each is also a
// key of the --config TOML file with the same name (the command line wins), and an unknown
// key in the file is an error that names it.
#pragma once
#include <CLI/CLI.hpp>

#include "cli/model_options.h"
#include "cli/whole_numbers.h"
#include "train/train_config.h"

namespace tg::cli {

inline void add_train_options(CLI::App* cmd, TrainConfig& c) {
  add_model_options(cmd, c.model);
  auto opt = [cmd](const char* name, auto& field, const char* help) {
    cmd->add_option(name, field, help)->capture_default_str();
  };
  opt("--dataset", c.dataset, "prepared dataset directory (train.bin, val.bin, tokenizer.json)");
  opt("--pairs", c.pairs, "fine-tuning pairs, JSONL {prompt, completion} or TSV");
  opt("--val_pairs", c.val_pairs, "held-out pairs for evaluation");
  opt("--pack_pairs", c.pack_pairs, "fine-tuning: pack several pairs into each row");
  opt("--stride", c.stride, "sliding-window stride");
  opt("--shuffle", c.shuffle, "seeded shuffle of the examples (false: sequential)");
  opt("--batch_size", c.batch_size, "B: sequences per micro-batch");
  opt("--gradient_accumulation_steps", c.gradient_accumulation_steps, "micro-batches per step");
  opt("--max_iters", c.max_iters, "optimizer steps in total");
  opt("--learning_rate", c.learning_rate, "peak learning rate");
  opt("--min_lr", c.min_lr, "learning rate at the end of the cosine decay");
  opt("--warmup_iters", c.warmup_iters, "linear warm-up steps");
  opt("--lr_decay_iters", c.lr_decay_iters, "cosine decay length (0: max_iters)");
  opt("--decay_lr", c.decay_lr, "false: constant learning rate");
  opt("--weight_decay", c.weight_decay, "AdamW weight decay on >=2-D parameters");
  opt("--beta1", c.beta1, "AdamW beta1");
  opt("--beta2", c.beta2, "AdamW beta2");
  opt("--grad_clip", c.grad_clip, "clip the global gradient norm (0: off)");
  opt("--eval_interval", c.eval_interval, "evaluate and checkpoint every N steps");
  opt("--eval_iters", c.eval_iters, "validation batches per evaluation");
  opt("--log_interval", c.log_interval, "a metrics line every N steps");
  opt("--keep_last", c.keep_last, "checkpoints kept besides best.h5");
  opt("--out_dir", c.out_dir, "where checkpoints, metrics.jsonl and config.toml go");
  opt("--seed", c.seed, "seed of init, data order and dropout");
  cmd->get_option("--seed")->transform(seed_range());
  opt("--init", c.init, "checkpoint to start from (fine-tuning)");
  opt("--freeze_embeddings", c.freeze_embeddings, "fine-tuning: keep wte/lm_head and wpe fixed");
  opt("--freeze_layers", c.freeze_layers, "fine-tuning: keep the first k blocks fixed");
}

}  // namespace tg::cli

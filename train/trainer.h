// trainer.h — the training loop: pretraining, resuming and fine-tuning.
//
// Per optimizer step: gradient_accumulation_steps micro-batches (forward, the loss weighted by
// the micro-batch's share of the step's counted targets, backward), clip the global gradient
// norm, AdamW at the scheduled LR. Every eval_interval steps: validation loss, a checkpoint
// (ckpt_<step>.h5, the last keep_last kept) and best.h5 when the validation loss improved. Everything a resumed run needs to continue bit for bit is
// in the checkpoint: weights, AdamW moments, step, dropout RNG, data position.
#pragma once
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "train/adamw.h"
#include "train/train_config.h"

namespace tg {

struct TrainSummary {
  int64_t iterations = 0;
  double last_train_loss = 0;
  double last_val_loss = 0;  // NaN-free: 0 when there was no evaluation
  double best_val_loss = 0;
  std::string best_checkpoint;
};

class PreviousRun;

class Trainer {
 public:
  // resume: continue from the newest complete checkpoint in out_dir.
  Trainer(const TrainConfig& config, bool resume);
  ~Trainer();
  // The config after defaults were filled in (vocab_size from the tokenizer, the model of an
  // --init or resumed checkpoint).
  const TrainConfig& config() const { return config_; }
  // The run's full config as TOML: written to out_dir/config.toml and into every checkpoint.
  void set_resolved_config(const std::string& toml) { resolved_config_ = toml; }
  // Trains to max_iters. A fresh run in an out_dir that holds a previous run's checkpoints
  // moves them (with its metrics.jsonl and config.toml) into out_dir/previous-run/, deletes them
  // once it has written a checkpoint of its own, and puts them back if it fails before that.
  TrainSummary run();

  GPT& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  void setup_model(bool resume);
  void setup_data();
  TrainSummary run_steps(PreviousRun& previous);
  double evaluate_val();
  void save(const std::string& path);
  void keep_metrics_up_to(int64_t last_step);
  void log_line(const std::string& json);

  TrainConfig config_;
  std::string resolved_config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<GPT> model_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<Dataset> train_data_, val_data_;
  std::unique_ptr<BatchIterator> train_batches_;
  TrainState state_;
  std::string resumed_from_;  // the checkpoint --resume continues, or ""
  std::string metrics_path_;
  int out_dir_lock_ = -1;  // a file descriptor holding flock on out_dir/.tapegpt.lock
};

}  // namespace tg

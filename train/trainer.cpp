#include "train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "autograd/tape.h"
#include "data/file_util.h"
#include "data/pair_dataset.h"
#include "data/scoring_windows.h"
#include "data/token_file.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/memory_estimate.h"
#include "train/out_dir.h"

namespace tg {
namespace fs = std::filesystem;
namespace {

std::string checkpoint_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "ckpt_%06ld.h5", static_cast<long>(step));
  return name;
}

// The best validation loss the checkpoint at `path` records, or infinity when there is no
// readable one (a missing or damaged best.h5 is then written again at the next evaluation).
double best_val_loss_held(const std::string& path) {
  if (!fs::exists(path)) return std::numeric_limits<double>::infinity();
  try {
    const Checkpoint best = read_checkpoint(path);
    if (best.has_state) return best.state.best_val_loss;
  } catch (const std::exception&) {
  }
  return std::numeric_limits<double>::infinity();
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream o;
  o.precision(7);
  o << v;
  return o.str();
}

std::runtime_error nothing_to_resume(const std::string& out_dir) {
  return std::runtime_error("--resume: no checkpoint in " + out_dir +
                            " to resume from (without --resume, a new run starts there)");
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, bool resume) : config_(config) {
  if (config_.out_dir.empty()) throw std::invalid_argument("out_dir: no directory given");
  if (fs::exists(config_.out_dir) && !fs::is_directory(config_.out_dir))
    throw std::runtime_error("out_dir " + config_.out_dir + " exists and is not a directory");
  if (resume && !fs::exists(config_.out_dir))  // (not made, with a lock file in it, to say so)
    throw nothing_to_resume(config_.out_dir);
  if (!fs::is_directory(config_.out_dir)) validate(config_);  // a new directory only for a run
  std::error_code made;
  fs::create_directories(config_.out_dir, made);
  if (made)
    throw std::runtime_error("out_dir " + config_.out_dir + ": cannot create (" + made.message() + ")");
  out_dir_lock_ = lock_out_dir(config_.out_dir);
  try {
    // A run that a killed fresh run set aside comes back first, even when this command then
    // fails on its options (as the README says).
    const auto brought_back = bring_back_a_run_set_aside(config_.out_dir);
    validate(config_);
    for (const auto& [was, is] : brought_back)
      if (!config_.init.empty() &&
          fs::absolute(config_.init).lexically_normal() == fs::absolute(was).lexically_normal())
        throw std::invalid_argument("init checkpoint " + config_.init + " is back in out_dir as " +
                                    is.string() + " with the run it belongs to, and a new run " +
                                    "there replaces it: copy it elsewhere or choose another " +
                                    "out_dir");
    // A new run replaces the checkpoints in out_dir, and deletes what an older run left in
    // previous-run/: starting from one of them would lose it.
    if (!resume && !config_.init.empty() && fs::exists(config_.init)) {
      const std::string refused = "init checkpoint " + config_.init + " is one of those a new " +
                                  "run in out_dir " + config_.out_dir + " replaces: copy it " +
                                  "elsewhere or choose another out_dir";
      for (const fs::path& path : replaced_by_a_new_run(config_.out_dir))
        if (fs::equivalent(config_.init, path)) throw std::invalid_argument(refused);
      const fs::path aside = set_aside_dir(config_.out_dir);
      if (fs::is_directory(aside) && fs::equivalent(fs::path(config_.init).parent_path(), aside))
        throw std::invalid_argument(refused);
    }
    metrics_path_ = (fs::path(config_.out_dir) / "metrics.jsonl").string();
    setup_model(resume);
    setup_data();
  } catch (...) {
    ::close(out_dir_lock_);
    throw;
  }
}

Trainer::~Trainer() { ::close(out_dir_lock_); }

void Trainer::setup_model(bool resume) {
  std::string resume_from = resume ? latest_checkpoint(config_.out_dir) : "";
  if (resume && resume_from.empty() && !checkpoints_in(config_.out_dir).empty())
    throw std::runtime_error("--resume: no readable checkpoint in " + config_.out_dir +
                             " (each was skipped, above); a new run there would replace them");
  if (resume && resume_from.empty())
    throw nothing_to_resume(config_.out_dir);
  const std::string weights_from = !resume_from.empty() ? resume_from : config_.init;
  // A fresh run (not a resume) seeds its data order and dropout from `seed`, also when it
  // starts from --init weights.
  state_.dropout_seed = config_.seed + 1;
  state_.data_seed = config_.seed;

  if (!weights_from.empty()) {
    Checkpoint ck = read_checkpoint(weights_from);
    if (!ck.tokenizer_json.empty()) {
      tokenizer_ = tokenizer_from_json(ck.tokenizer_json, weights_from + " (tokenizer)");
      if (!config_.dataset.empty()) require_same_tokenizer(config_.dataset, *tokenizer_, weights_from);
    } else if (!config_.dataset.empty())  // bare weights (e.g. exported): the dataset's tokenizer
      tokenizer_ = load_tokenizer((fs::path(config_.dataset) / "tokenizer.json").string());
    else
      throw std::runtime_error(weights_from + ": checkpoint holds no tokenizer");
    if (tokenizer_->vocab_size() > ck.config.vocab_size)
      throw std::runtime_error(weights_from + ": the model's vocab_size " +
                               std::to_string(ck.config.vocab_size) + " is smaller than the " +
                               "tokenizer's " + std::to_string(tokenizer_->vocab_size()));
    {  // The weights fix the model's shape: a shape option the user gave must agree with them.
      GPTConfig asked = config_.model;
      if (asked.vocab_size == 0) asked.vocab_size = ck.config.vocab_size;
      const ShapeDifference d = shape_difference(ck.config, asked, config_.asked_model_options);
      if (!d.key.empty())
        throw std::runtime_error(weights_from + ": checkpoint was trained with another " + d.key +
                                 " (checkpoint: " + d.held + ", asked: " + d.asked + ")");
    }
    GPTConfig c = ck.config;
    c.dropout = config_.model.dropout;  // dropout is a training choice, not part of the weights
    config_.model = c;
    require_memory_for(c, config_.batch_size, /*training=*/true);
    model_ = std::make_unique<GPT>(c, std::nullopt);
    load_weights(weights_from, *model_);
    if (!resume_from.empty()) {
      if (!ck.has_state || !ck.has_optimizer)
        throw std::runtime_error(resume_from + ": not a training checkpoint (no state/optimizer)");
      state_ = ck.state;
      // --resume picks the newest by name: a file named for another step than it holds (copied
      // by hand) would be picked again on every resume, and the run's newer ones pruned.
      for (auto& [named_step, path] : checkpoints_in(config_.out_dir))
        if (path == resume_from && named_step != state_.iteration)
          throw std::runtime_error(resume_from + ": named for step " + std::to_string(named_step) +
                                   " but holds step " + std::to_string(state_.iteration) +
                                   " (rename or remove it)");
      if (config_.seed_asked && config_.seed != state_.data_seed)
        throw std::invalid_argument(
            "seed=" + std::to_string(config_.seed) + ": the run in " + config_.out_dir +
            " started with seed " + std::to_string(state_.data_seed) +
            ", and a resumed run continues its random streams (leave seed out, or start a new run)");
      config_.seed = state_.data_seed;  // what config.toml and the checkpoints record
      // best.h5 is saved after the step's checkpoint, which already counts the new best: a run
      // stopped between the two left a best_val_loss that best.h5 does not hold, and no later
      // evaluation would have beaten it. The best loss is what best.h5 holds (none: infinity).
      state_.best_val_loss = best_val_loss_held((fs::path(config_.out_dir) / "best.h5").string());
      if (state_.iteration >= config_.max_iters)
        throw std::invalid_argument(resume_from + " is at step " + std::to_string(state_.iteration) +
                                    " and max_iters is " + std::to_string(config_.max_iters) +
                                    ": nothing left to train (raise max_iters)");
      resumed_from_ = resume_from;
      std::fprintf(stderr, "tapegpt: resuming from %s at step %ld\n", resume_from.c_str(),
                   static_cast<long>(state_.iteration));
    }
  } else {
    if (config_.dataset.empty())
      throw std::invalid_argument("dataset: no dataset directory given (key `dataset`)");
    tokenizer_ = load_tokenizer((fs::path(config_.dataset) / "tokenizer.json").string());
    if (config_.model.vocab_size == 0) config_.model.vocab_size = tokenizer_->vocab_size();
    if (config_.model.vocab_size < tokenizer_->vocab_size())
      throw std::invalid_argument("vocab_size=" + std::to_string(config_.model.vocab_size) +
                                  " is smaller than the tokenizer's " +
                                  std::to_string(tokenizer_->vocab_size()));
    config_.model.validate();
    require_memory_for(config_.model, config_.batch_size, /*training=*/true);
    model_ = std::make_unique<GPT>(config_.model, config_.seed);
  }
  if (config_.freeze_layers > model_->config().n_layer)
    throw std::invalid_argument("freeze_layers=" + std::to_string(config_.freeze_layers) +
                                " is more than the model's n_layer=" +
                                std::to_string(model_->config().n_layer));
  // Fine-tuning choices: frozen parameters need no gradient and get no update.
  for (auto& [name, t] : model_->named_parameters()) {
    bool frozen = config_.freeze_embeddings &&
                  (name == "transformer.wte.weight" || name == "transformer.wpe.weight");
    for (int64_t i = 0; i < config_.freeze_layers; i++)
      frozen = frozen || name.rfind("transformer.h." + std::to_string(i) + ".", 0) == 0;
    Tensor handle = t;
    handle.set_requires_grad(!frozen);
  }
  // Built after freezing: AdamW updates (and decays) only parameters that need a gradient.
  AdamWConfig adamw;  // eps stays torch's default
  adamw.beta1 = config_.beta1;
  adamw.beta2 = config_.beta2;
  adamw.weight_decay = config_.weight_decay;
  optimizer_ = std::make_unique<AdamW>(*model_, adamw);
  if (!resume_from.empty()) {
    read_optimizer(resume_from, *model_, &optimizer_->state());
    // AdamW's bias correction counts its steps: one per training step, from the same start.
    if (optimizer_->state().step != state_.iteration)
      throw std::runtime_error(resume_from + ": optimizer/step " +
                               std::to_string(optimizer_->state().step) +
                               " does not match state/iteration " + std::to_string(state_.iteration));
  }
  model_->dropout_rng() = Rng{state_.dropout_seed, state_.dropout_offset};
}

void Trainer::setup_data() {
  const int64_t T = model_->config().block_size;
  if (!config_.pairs.empty()) {
    train_data_ = std::make_unique<PairDataset>(
        PairDataset::from_file(config_.pairs, *tokenizer_, T, config_.pack_pairs));
    if (!config_.val_pairs.empty())
      val_data_ = std::make_unique<PairDataset>(
          PairDataset::from_file(config_.val_pairs, *tokenizer_, T, /*pack=*/false));
  } else {
    if (config_.dataset.empty())
      throw std::invalid_argument("dataset: give a prepared dataset directory or `pairs`");
    auto open = [&](const char* name) {
      auto file = TokenFile::open_shared((fs::path(config_.dataset) / name).string());
      if (file->vocab_size() > model_->config().vocab_size)
        throw std::runtime_error(file->name() + ": vocab size " +
                                 std::to_string(file->vocab_size()) + " exceeds the model's " +
                                 std::to_string(model_->config().vocab_size));
      // prepare writes its tokenizer's size; a smaller one is data from another tokenizer.
      // (A bigger one may be another tool's padded size: its ids are checked against the model.)
      if (file->vocab_size() < tokenizer_->vocab_size())
        throw std::runtime_error(file->name() + ": vocab size " +
                                 std::to_string(file->vocab_size()) + ", but the tokenizer's is " +
                                 std::to_string(tokenizer_->vocab_size()) +
                                 " (the files were prepared with another tokenizer)");
      return file;
    };
    train_data_ = std::make_unique<SlidingWindowDataset>(open("train.bin"), T, config_.stride);
    // Validation windows do not overlap, and score every token once as `eval` does: eval_iters
    // batches cover eval_iters·B·T distinct tokens instead of a few hundred.
    auto val = open("val.bin");
    // `prepare --val_fraction 0` writes an empty val.bin: the run then has no validation set
    // (best.h5 is the latest checkpoint), as a fine-tune without val_pairs.
    if (val->size() > 0) val_data_ = std::make_unique<ScoringWindowDataset>(val, T);
  }
  train_batches_ = std::make_unique<BatchIterator>(*train_data_, config_.batch_size,
                                                   config_.shuffle, state_.data_seed);
  try {
    train_batches_->seek(DataPosition{state_.data_epoch, state_.data_cursor});
  } catch (const std::exception& e) {  // a resumed checkpoint's state that this data cannot have
    throw std::runtime_error(resumed_from_ + ": state/data_cursor: " + e.what());
  }
}

double Trainer::evaluate_val() {
  if (!val_data_) return std::nan("");
  return evaluate(*model_, *val_data_, config_.batch_size, config_.eval_iters).loss;
}

void Trainer::save(const std::string& path) {
  Checkpoint extras;
  extras.run_config = resolved_config_;
  extras.tokenizer_json = tokenizer_->to_json();
  extras.has_state = true;
  extras.state = state_;
  save_checkpoint(path, *model_, extras, &optimizer_->state());
}

// A resumed run keeps the metrics up to its checkpoint and rewrites what came after (the steps
// it will run again); a fresh run starts an empty file.
void Trainer::keep_metrics_up_to(int64_t last_step) {
  std::string kept;
  if (last_step > 0 && fs::exists(metrics_path_)) {
    std::ifstream in(metrics_path_);
    for (std::string line; std::getline(in, line);) {
      auto at = line.find("\"step\": ");
      if (at == std::string::npos) continue;  // a line cut short by a kill: dropped
      const int64_t step = std::strtoll(line.c_str() + at + 8, nullptr, 10);
      if (step <= last_step) kept += line + "\n";
    }
  }
  write_file_atomic(metrics_path_, kept);
}

void Trainer::log_line(const std::string& json) {
  std::ofstream out(metrics_path_, std::ios::app);
  out << json << "\n";
  if (!out.flush()) throw std::runtime_error(metrics_path_ + ": cannot append a metrics line");
}

TrainSummary Trainer::run() {
  PreviousRun previous(config_.out_dir, /*fresh_run=*/state_.iteration == 0);
  try {
    return run_steps(previous);
  } catch (...) {
    previous.restore();  // nothing to do once this run has written a checkpoint
    throw;
  }
}

TrainSummary Trainer::run_steps(PreviousRun& previous) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const double elapsed_before = state_.elapsed_s;  // a resumed run's clock goes on from there
  const bool tty = isatty(fileno(stdout));
  const int64_t B = config_.batch_size, T = model_->config().block_size;
  const int64_t accum = config_.gradient_accumulation_steps;
  TrainSummary summary;
  summary.best_val_loss = state_.best_val_loss;
  write_file_atomic((fs::path(config_.out_dir) / "config.toml").string(), resolved_config_);

  keep_metrics_up_to(state_.iteration);
  // A fresh run replaces a previous run's checkpoints (as nanoGPT overwrites its ckpt.pt): left
  // in out_dir, they would be taken for this run's by pruning and --resume. run() has moved them
  // aside; they go once this run has a checkpoint of its own.
  bool saved_one = false;
  const bool resumed = state_.iteration > 0;
  auto diverged = [&](const std::string& what) {  // the end of a run whose numbers blew up
    return std::runtime_error(what + ": training diverged (lower learning_rate?); " +
                              (saved_one || resumed ? "last good checkpoint is in " + config_.out_dir
                                                    : "this run wrote no checkpoint"));
  };

  auto evaluate_and_save = [&](int64_t step, bool save_checkpoint_now) {
    const bool has_val = val_data_ != nullptr;
    const double val = evaluate_val();
    if (has_val && !std::isfinite(val))
      throw diverged("validation loss " + std::to_string(val) + " at step " + std::to_string(step));
    summary.last_val_loss = has_val ? val : 0.0;
    if (has_val) {
      log_line("{\"step\": " + std::to_string(step) + ", \"val_loss\": " + json_number(val) +
               ", \"val_ppl\": " + json_number(std::exp(val)) + "}");
      std::printf("%sstep %ld: val loss %.4f, perplexity %.2f\n", tty ? "\r\033[K" : "",
                  static_cast<long>(step), val, std::exp(val));
      std::fflush(stdout);
    }
    if (!save_checkpoint_now) return;
    // Without a validation set nothing above has looked at the weights this step made: a
    // diverged step must not become the checkpoint a resume, a sample or best.h5 starts from.
    if (!all_finite(model_->flat_values(), model_->flat_size()))
      throw diverged("weights hold NaN or Inf after step " + std::to_string(step));
    const bool improved = has_val && val < state_.best_val_loss;
    if (improved) state_.best_val_loss = val;
    // The step's checkpoint first: until it exists, a failed fresh run gives the previous run
    // back. (A run stopped before best.h5 follows: see the resume in setup_model.)
    save((fs::path(config_.out_dir) / checkpoint_name(step)).string());
    previous.discard();
    saved_one = true;
    if (improved || !has_val) save((fs::path(config_.out_dir) / "best.h5").string());
    // Keep the newest keep_last up to this step. A later-numbered one is a file --resume
    // skipped as unreadable: it is not this run's, and counting it would delete this run's own
    // newest checkpoint (it is replaced when the run gets to its step).
    size_t kept = 0;
    for (auto& [ckpt_step, path] : checkpoints_in(config_.out_dir))
      if (ckpt_step <= step && ++kept > static_cast<size_t>(config_.keep_last)) fs::remove(path);
  };

  if (state_.iteration == 0) evaluate_and_save(0, false);
  std::vector<Batch> micro_batches(accum);
  const int64_t first_step = state_.iteration;  // a resumed run's clock starts here
  double tokens_since = 0;
  auto window_start = Clock::now();
  for (int64_t it = state_.iteration; it < config_.max_iters; it++) {
    const float lr = learning_rate_at(config_, it);
    model_->zero_grad();
    // Each micro-batch's loss is the mean over its counted targets; the step's loss is the mean
    // over all of them, as one big batch would give. With masked targets (pairs) micro-batches
    // count different numbers, so each is weighted by its share (1 / accum when all count).
    int64_t counted = 0;
    for (Batch& b : micro_batches) {
      train_batches_->next(&b);
      counted += counted_targets(b);
    }
    double loss = 0.0;
    for (const Batch& b : micro_batches) {
      const int64_t n = counted_targets(b);
      if (counted > 0 && n == 0) continue;  // nothing to learn here (its mean would be 0 / 0)
      const double share = counted > 0 ? static_cast<double>(n) / static_cast<double>(counted) : 1.0 / accum;
      Ids x = batch_inputs(b), y = batch_targets(b);
      GPTOutput out = model_->forward(x, &y, /*want_logits=*/false);
      loss += share * out.loss.data()[0];
      tape().backward(accum == 1 ? out.loss : scale(out.loss, static_cast<float>(share)));
    }
    const float norm = grad_norm(*model_);
    if (!std::isfinite(loss) || !std::isfinite(norm))  // stop before the weights are ruined
      throw diverged("loss " + std::to_string(loss) + ", gradient norm " + std::to_string(norm) +
                     " at step " + std::to_string(it + 1));
    optimizer_->step(lr, clip_coefficient(norm, config_.grad_clip));

    state_.iteration = it + 1;
    state_.tokens_seen += B * T * accum;
    const DataPosition pos = train_batches_->position();
    state_.data_epoch = pos.epoch;
    state_.data_cursor = pos.cursor;
    state_.dropout_offset = model_->dropout_rng().offset;
    summary.last_train_loss = loss;
    tokens_since += B * T * accum;

    const int64_t step = it + 1;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    state_.elapsed_s = elapsed_before + elapsed;
    if (step % config_.log_interval == 0 || step == config_.max_iters) {
      const double window = std::chrono::duration<double>(Clock::now() - window_start).count();
      const double tps = tokens_since / std::max(window, 1e-9);
      tokens_since = 0;
      window_start = Clock::now();
      log_line("{\"step\": " + std::to_string(step) + ", \"loss\": " +
               json_number(summary.last_train_loss) + ", \"lr\": " + json_number(lr) +
               ", \"grad_norm\": " + json_number(norm) + ", \"tokens_per_s\": " +
               json_number(tps) + ", \"elapsed_s\": " + json_number(state_.elapsed_s) + "}");
      const int64_t total = config_.max_iters;
      const double eta = elapsed / std::max<int64_t>(1, step - first_step) * (total - step);
      if (tty) {
        const int width = 30, filled = static_cast<int>(width * step / std::max<int64_t>(1, total));
        std::printf("\r\033[K[%s%s] %ld/%ld loss %.4f lr %.2e %.0f tok/s ETA %dm%02ds",
                    std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                    static_cast<long>(step), static_cast<long>(total), summary.last_train_loss,
                    lr, tps, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
      } else {
        std::printf("step %ld/%ld loss %.4f lr %.3e grad_norm %.3f %.0f tok/s elapsed %.1fs\n",
                    static_cast<long>(step), static_cast<long>(total), summary.last_train_loss, lr,
                    norm, tps, state_.elapsed_s);
      }
      std::fflush(stdout);
    }
    if (step % config_.eval_interval == 0 || step == config_.max_iters) {
      evaluate_and_save(step, true);
      tokens_since = 0;  // tokens/s counts training only, not evaluation and saving
      window_start = Clock::now();
    }
  }
  if (tty) std::printf("\n");
  summary.iterations = state_.iteration;
  summary.best_val_loss = state_.best_val_loss;
  summary.best_checkpoint = (fs::path(config_.out_dir) / "best.h5").string();
  return summary;
}

}  // namespace tg

// tapegpt train / finetune — config-driven training runs.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/train_options.h"
#include "train/checkpoint.h"
#include "train/out_dir.h"
#include "train/trainer.h"

namespace tg::cli {
namespace {

struct TrainArgs {
  TrainConfig config;
  std::shared_ptr<std::string> config_file;
  bool resume = false;
};

// The shortest %g text that reads back as the float v (0.0006, not 0.000600000028).
std::string shortest_decimal(float v) {
  char text[32];
  for (int digits = 1; digits <= 9; digits++) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(text, nullptr) == v || std::isnan(v)) break;
  }
  return text;
}

void run(CLI::App* cmd, const TrainArgs& args) {
  // Fills the options bound to args with the file's keys.
  const std::set<std::string> from_file = apply_config_file(cmd, *args.config_file);
  const bool seed_asked = cmd->get_option("--seed")->count() > 0;
  // A resumed run continues the run in out_dir: what neither the command line nor the config
  // file sets comes from the config its newest checkpoint recorded, not from the defaults
  // (`train --out_dir O --resume --max_iters 8` keeps the run's batch, rates, data, ...).
  // (The trainer names the unreadable checkpoints it skips.)
  // A fresh run killed before its first checkpoint left the run it replaced in previous-run/,
  // which the trainer puts back before it resumes: that run's config is the one to continue.
  std::string newest = args.resume ? latest_checkpoint(args.config.out_dir, /*say_skipped=*/false) : "";
  if (args.resume && newest.empty())
    newest = latest_checkpoint(set_aside_dir(args.config.out_dir).string(), /*say_skipped=*/false);
  if (!newest.empty())
    apply_config_text(cmd, read_checkpoint(newest).run_config, newest + " (its run config)", false);
  TrainConfig config = args.config;
  if (cmd->get_name() == "finetune" && config.init.empty() && !args.resume)  // (resumed: the run's weights)
    throw std::invalid_argument("finetune: `init` (the checkpoint to start from) is required");
  config.seed_asked = seed_asked;
  config.asked_model_options.clear();  // only what was given is checked on --resume
  for (const std::string& key : GPTConfig::shape_option_names())
    if (cmd->get_option("--" + key)->count() > 0) config.asked_model_options.push_back(key);
  std::unique_ptr<Trainer> made;  // (its checks of the values name the file they came from)
  naming_config_file(cmd, from_file, *args.config_file,
                     [&] { made = std::make_unique<Trainer>(config, args.resume); });
  Trainer& trainer = *made;
  // The resolved config: every option with its final value, as TOML. The model's shape may
  // have come from the tokenizer or a checkpoint: put those values in first.
  for (const auto& [name, value] : trainer.config().model.shape_options()) {
    CLI::Option* opt = cmd->get_option("--" + name);
    opt->clear();
    opt->add_result(value);
  }
  CLI::Option* seed = cmd->get_option("--seed");  // a resumed run's own
  seed->clear();
  seed->add_result(std::to_string(trainer.config().seed));
  std::string resolved;
  std::istringstream lines(cmd->config_to_str(/*default_also=*/true, /*write_description=*/false));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("config=", 0) == 0 || line.rfind("resume=", 0) == 0) continue;
    // CLI11 writes a value as it was typed: `--shuffle off` as shuffle="off", `--learning_rate
    // 0x1p-7` as learning_rate="0x1p-7", quoted text that a TOML reader (this one, on --resume)
    // refuses for a true/false or number key. They are written as TOML's true / false and
    // decimal numbers.
    const size_t eq = line.find('=');
    const CLI::Option* option = eq == std::string::npos ? nullptr : cmd->get_option_no_throw("--" + line.substr(0, eq));
    const std::string type = option ? option->get_type_name().substr(0, option->get_type_name().find(':')) : "";
    if (type == "BOOLEAN") line = line.substr(0, eq + 1) + (option->as<bool>() ? "true" : "false");
    // (every FLOAT option is a float: the value the run used, read back exactly on --resume)
    if (type == "FLOAT") line = line.substr(0, eq + 1) + shortest_decimal(option->as<float>());
    // (and text as a TOML basic string, escaped, as the reader decodes it: CLI11 wrote it raw)
    if (type == "TEXT") line = line.substr(0, eq + 1) + toml_quote(option->as<std::string>());
    resolved += line + "\n";
  }
  trainer.set_resolved_config(resolved);
  TrainSummary s = trainer.run();
  char best_val[64] = "no validation set";
  if (std::isfinite(s.best_val_loss))
    std::snprintf(best_val, sizeof(best_val), "best val loss %.4f", s.best_val_loss);
  std::printf("done: %ld steps, last train loss %.4f, %s, best checkpoint %s\n",
              static_cast<long>(s.iterations), s.last_train_loss, best_val, s.best_checkpoint.c_str());
}

}  // namespace

void add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  args->config.model.vocab_size = 0;  // from the dataset's tokenizer
  CLI::App* cmd = app.add_subcommand("train", "pretrain a GPT from a config file");
  args->config_file = add_config_option(cmd);
  add_train_options(cmd, args->config);
  cmd->get_option("--vocab_size")->description("V: number of token ids (0: the dataset tokenizer's)");
  cmd->add_flag("--resume", args->resume, "continue from the newest checkpoint in out_dir");
  cmd->callback([cmd, args] { run(cmd, *args); });
}

void add_finetune(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  args->config.learning_rate = 1e-4f;  // gentler than pretraining
  args->config.min_lr = 1e-5f;         // learning_rate / 10, as pretraining's defaults
  args->config.warmup_iters = 0;
  CLI::App* cmd = app.add_subcommand(
      "finetune", "train from a checkpoint's weights and tokenizer on new data (fresh optimizer)");
  args->config_file = add_config_option(cmd);
  add_train_options(cmd, args->config);
  // The weights fix the shape: a shape option is only checked against --init's, no default.
  for (const std::string& key : GPTConfig::shape_option_names())
    cmd->get_option("--" + key)->default_str("")->description("must match --init's (its weights fix the shape)");
  cmd->add_flag("--resume", args->resume, "continue an interrupted fine-tuning run in out_dir");
  cmd->callback([cmd, args] { run(cmd, *args); });
}

}  // namespace tg::cli

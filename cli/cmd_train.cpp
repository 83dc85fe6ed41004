// tapegpt train / finetune — config-driven training runs.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/train_options.h"
#include "train/trainer.h"

namespace tg::cli {
namespace {

struct TrainArgs {
  TrainConfig config;
  std::shared_ptr<std::string> config_file;
  bool resume = false;
};

void run(CLI::App* cmd, const TrainArgs& args) {
  apply_config_file(cmd, *args.config_file);  // fills the options bound to args (the file's keys)
  TrainConfig config = args.config;
  if (cmd->get_name() == "finetune" && config.init.empty())
    throw std::invalid_argument("finetune: `init` (the checkpoint to start from) is required");
  config.asked_model_options.clear();  // only what was given is checked on --resume
  for (const char* key : {"vocab_size", "block_size", "n_layer", "n_head", "n_embd", "bias",
                          "attention", "attn_window"})
    if (cmd->get_option(std::string("--") + key)->count() > 0)
      config.asked_model_options.push_back(key);
  Trainer trainer(config, args.resume);
  // The resolved config: every option with its final value, as TOML. The model's shape may
  // have come from the tokenizer or a checkpoint: put those values in first.
  const GPTConfig& m = trainer.config().model;
  auto set = [cmd](const char* name, const std::string& value) {
    CLI::Option* opt = cmd->get_option(name);
    opt->clear();
    opt->add_result(value);
  };
  set("--vocab_size", std::to_string(m.vocab_size));
  set("--block_size", std::to_string(m.block_size));
  set("--n_layer", std::to_string(m.n_layer));
  set("--n_head", std::to_string(m.n_head));
  set("--n_embd", std::to_string(m.n_embd));
  set("--bias", m.bias ? "true" : "false");
  set("--attention", m.attention);
  set("--attn_window", std::to_string(m.attn_window));
  std::string resolved;
  std::istringstream lines(cmd->config_to_str(/*default_also=*/true, /*write_description=*/false));
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("config=", 0) != 0 && line.rfind("resume=", 0) != 0) resolved += line + "\n";
  trainer.set_resolved_config(resolved);
  TrainSummary s = trainer.run();
  std::printf("done: %ld steps, last train loss %.4f, best val loss %.4f, best checkpoint %s\n",
              static_cast<long>(s.iterations), s.last_train_loss, s.best_val_loss,
              s.best_checkpoint.c_str());
}

}  // namespace

void add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  args->config.model.vocab_size = 0;  // from the dataset's tokenizer
  CLI::App* cmd = app.add_subcommand("train", "pretrain a GPT from a config file");
  args->config_file = add_config_option(cmd);
  add_train_options(cmd, args->config);
  cmd->add_flag("--resume", args->resume, "continue from the newest checkpoint in out_dir");
  cmd->callback([cmd, args] { run(cmd, *args); });
}

void add_finetune(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  args->config.learning_rate = 1e-4f;  // gentler than pretraining
  args->config.warmup_iters = 0;
  CLI::App* cmd = app.add_subcommand(
      "finetune", "train from a checkpoint's weights and tokenizer on new data (fresh optimizer)");
  args->config_file = add_config_option(cmd);
  add_train_options(cmd, args->config);
  cmd->add_flag("--resume", args->resume, "continue an interrupted fine-tuning run in out_dir");
  cmd->callback([cmd, args] { run(cmd, *args); });
}

}  // namespace tg::cli

// tapegpt inspect CKPT — config, parameters per module and in total, training state.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "train/checkpoint.h"
#include "train/memory_estimate.h"

namespace tg::cli {
namespace {

struct InspectArgs {
  std::string checkpoint;
};

void run_inspect(const InspectArgs& args) {
  Checkpoint ck = read_checkpoint(args.checkpoint);
  require_memory_for(ck.config, 1, /*training=*/false, args.checkpoint);  // built to count it
  auto model = load_model(args.checkpoint);
  const GPTConfig& c = ck.config;
  std::printf("checkpoint  %s\n", args.checkpoint.c_str());
  std::printf("config      vocab_size=%ld block_size=%ld n_layer=%ld n_head=%ld n_embd=%ld "
              "bias=%s dropout=%g\n",
              (long)c.vocab_size, (long)c.block_size, (long)c.n_layer, (long)c.n_head,
              (long)c.n_embd, c.bias ? "true" : "false", c.dropout);
  std::printf("attention   \"%s\" (window %ld):", c.attention.c_str(), (long)c.attn_window);
  for (int64_t i = 0; i < c.n_layer; i++) std::printf(" %s", c.layer_kind(i).c_str());
  std::printf("\n\nparameters by module\n");
  // Group by the name up to the parameter itself: transformer.h.0.attn.c_attn, ...
  std::map<std::string, int64_t> per_module;
  std::vector<std::string> order;
  for (auto& [name, t] : model->named_parameters()) {
    std::string module = name.substr(0, name.rfind('.'));
    if (!per_module.count(module)) order.push_back(module);
    per_module[module] += t.numel();
  }
  for (auto& m : order) std::printf("  %-40s %12ld\n", m.c_str(), (long)per_module[m]);
  std::printf("  %-40s %12ld  (lm_head.weight tied to transformer.wte.weight)\n", "total",
              (long)model->num_parameters());
  std::printf("\ntokenizer   %s\n", ck.tokenizer_json.empty() ? "(none stored)" : "stored");
  if (ck.has_state) {
    std::printf("state       step=%ld tokens_seen=%ld best_val_loss=%s\n",
                (long)ck.state.iteration, (long)ck.state.tokens_seen,
                std::isinf(ck.state.best_val_loss)
                    ? "none"
                    : std::to_string(ck.state.best_val_loss).c_str());
  } else {
    std::printf("state       (weights only)\n");
  }
  std::printf("optimizer   %s\n", ck.has_optimizer ? "AdamW moments stored" : "none");
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "show a checkpoint's config, sizes and state");
  cmd->add_option("checkpoint", args->checkpoint, "checkpoint file (.h5)")->required();
  cmd->callback([args] { run_inspect(*args); });
}

}  // namespace tg::cli

// model_options.h — the GPTConfig fields as command-line / config-file options, declared once
// and shared by every subcommand that builds a model (bench, train).
#pragma once
#include <CLI/CLI.hpp>

#include "nn/gpt_config.h"

namespace tg::cli {

inline void add_model_options(CLI::App* cmd, GPTConfig& c) {
  cmd->add_option("--vocab_size", c.vocab_size, "V: number of token ids")->capture_default_str();
  cmd->add_option("--block_size", c.block_size, "T: context length")->capture_default_str();
  cmd->add_option("--n_layer", c.n_layer, "L: transformer blocks")->capture_default_str();
  cmd->add_option("--n_head", c.n_head, "NH: attention heads")->capture_default_str();
  cmd->add_option("--n_embd", c.n_embd, "C: embedding width")->capture_default_str();
  cmd->add_option("--dropout", c.dropout, "dropout probability in training")->capture_default_str();
  cmd->add_option("--bias", c.bias, "biases in Linear and LayerNorm (true/false)")->capture_default_str();
  cmd->add_option("--attention", c.attention,
                  "per-layer attention pattern, repeated: dense | local | dense,local ...")
      ->capture_default_str();
  cmd->add_option("--attn_window", c.attn_window, "W: a local layer attends to the last W positions, its own included")
      ->capture_default_str();
}

}  // namespace tg::cli

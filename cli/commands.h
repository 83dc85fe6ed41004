// commands.h — every `tapegpt` subcommand registers itself on the app from its own file.
// A subcommand's work runs in its callback; errors are thrown and reported by main() as one
// line, with a non-zero exit.
#pragma once
#include <CLI/CLI.hpp>

namespace tg::cli {

void add_prepare(CLI::App& app);   // cmd_prepare.cpp: corpus → token files
void add_tokenize(CLI::App& app);  // cmd_tokenize.cpp: text ↔ ids
void add_examples(CLI::App& app);  // cmd_examples.cpp: the sliding-window table
void add_train(CLI::App& app);     // cmd_train.cpp: pretraining
void add_finetune(CLI::App& app);  // cmd_train.cpp: training from a checkpoint
void add_sample(CLI::App& app);    // cmd_sample.cpp: generation
void add_eval(CLI::App& app);      // cmd_eval.cpp: loss and perplexity
void add_inspect(CLI::App& app);   // cmd_inspect.cpp: what a checkpoint holds
void add_bench(CLI::App& app);     // cmd_bench.cpp: training-step speed

}  // namespace tg::cli

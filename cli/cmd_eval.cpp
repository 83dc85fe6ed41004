// tapegpt eval — loss and perplexity of a checkpoint over a token file, a text file, or a
// (prompt, completion) pairs file (loss on the completions only).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "data/file_util.h"
#include "data/pair_dataset.h"
#include "data/scoring_windows.h"
#include "data/token_file.h"
#include "data/tokenizer.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/memory_estimate.h"
#include "train/train_config.h"

namespace tg::cli {
namespace {

struct EvalArgs {
  std::string checkpoint, data;
  int64_t batch_size = 8;
  int64_t max_batches = 0;
  bool json = false;
};

void run_eval(const EvalArgs& a) {
  if (a.max_batches < 0)
    throw std::invalid_argument("eval: --max_batches must be 0 (all) or positive, got " +
                                std::to_string(a.max_batches));
  require_at_least("eval: --batch_size", a.batch_size, 1);
  Checkpoint ck = read_checkpoint(a.checkpoint);
  require_memory_for(ck.config, a.batch_size, /*training=*/false);
  auto model = load_model(a.checkpoint);
  const int64_t T = ck.config.block_size;
  std::unique_ptr<Dataset> data;
  auto tokenizer = [&] { return checkpoint_tokenizer(ck, a.checkpoint); };
  if (!std::filesystem::exists(a.data)) throw std::runtime_error(a.data + ": no such file");
  // A token file by its name or its first bytes (whatever it is called, its header is not text).
  if (std::filesystem::path(a.data).extension() == ".bin" || starts_as_token_file(a.data)) {
    // Token files prepared with another tokenizer would be scored as other text.
    const std::filesystem::path dir = std::filesystem::path(a.data).parent_path();
    if (!ck.tokenizer_json.empty())
      require_same_tokenizer(dir.empty() ? "." : dir.string(), *tokenizer(), a.checkpoint);
    auto file = TokenFile::open_shared(a.data);
    if (file->vocab_size() > ck.config.vocab_size)
      throw std::runtime_error(a.data + ": vocab size " + std::to_string(file->vocab_size()) +
                               " exceeds the model's " + std::to_string(ck.config.vocab_size));
    // prepare writes its tokenizer's size (as the trainer checks): a smaller one is another's.
    const int64_t tokenizer_vocab = ck.tokenizer_json.empty() ? 0 : tokenizer()->vocab_size();
    if (file->vocab_size() < tokenizer_vocab)
      throw std::runtime_error(a.data + ": vocab size " + std::to_string(file->vocab_size()) +
                               ", but the checkpoint's tokenizer has " +
                               std::to_string(tokenizer_vocab) +
                               " (the file was prepared with another tokenizer)");
    data = std::make_unique<ScoringWindowDataset>(file, T);
  } else if (is_pairs_file(a.data)) {
    auto tok = tokenizer();
    data = std::make_unique<PairDataset>(PairDataset::from_file(a.data, *tok, T));
  } else {  // text: encoded with the checkpoint's tokenizer
    if (!std::filesystem::is_regular_file(a.data))
      throw std::runtime_error(a.data + ": not a file");
    auto tok = tokenizer();
    const std::string text = read_file(a.data);
    try {
      data = std::make_unique<ScoringWindowDataset>(tok->encode(text), tok->vocab_size(), T);
    } catch (const std::exception& e) {  // bytes that are not UTF-8, too few tokens, ...
      throw std::runtime_error(a.data + ": " + e.what());
    }
  }
  EvalResult r = evaluate(*model, *data, a.batch_size, a.max_batches);
  if (!std::isfinite(r.loss))  // a script reading the number must not take it for a result
    throw std::runtime_error(a.checkpoint + ": the loss on " + a.data + " is " +
                             std::to_string(r.loss) + " (are its weights finite?)");
  char perplexity[32] = "null";  // JSON has no Inf: exp(loss) overflows past a loss of ~709
  if (std::isfinite(r.perplexity)) std::snprintf(perplexity, sizeof perplexity, "%.4f", r.perplexity);
  if (a.json)
    std::printf("{\"loss\": %.6f, \"perplexity\": %s, \"batches\": %ld, \"targets\": %ld}\n",
                r.loss, perplexity, static_cast<long>(r.batches), static_cast<long>(r.targets));
  else
    std::printf("loss %.4f  perplexity %.3f  (%ld targets in %ld batches)\n", r.loss,
                r.perplexity, static_cast<long>(r.targets), static_cast<long>(r.batches));
}

}  // namespace

void add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "loss and perplexity of a checkpoint on data");
  cmd->add_option("--checkpoint", a->checkpoint, "checkpoint file")->required();
  cmd->add_option("--data", a->data, "token file (.bin), text file, or pairs (.jsonl/.tsv)")->required();
  cmd->add_option("--batch_size", a->batch_size, "sequences per batch")->capture_default_str();
  cmd->add_option("--max_batches", a->max_batches, "at most this many batches (0: all)")->capture_default_str();
  cmd->add_flag("--json", a->json, "one JSON line");
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace tg::cli

// tapegpt sample — generation, printed token by token as it is produced.
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/whole_numbers.h"
#include "data/file_util.h"
#include "data/tokenizer.h"
#include "train/checkpoint.h"
#include "train/memory_estimate.h"
#include "train/sampler.h"
#include "train/train_config.h"

namespace tg::cli {
namespace {

struct SampleArgs {
  std::string checkpoint, prompt, prompt_file;
  int64_t num_samples = 1;
  SampleOptions options;
};

void run_sample(const SampleArgs& a) {
  if (a.checkpoint.empty()) throw std::invalid_argument("sample: --checkpoint is required");
  if (!a.prompt.empty() && !a.prompt_file.empty())
    throw std::invalid_argument("sample: give --prompt or --prompt_file, not both");
  const SampleOptions& ao = a.options;
  require_at_least("sample: --max_new_tokens", ao.max_new_tokens, 1);
  require_at_least("sample: --num_samples", a.num_samples, 1);
  if (!(ao.temperature >= 0.0f && std::isfinite(ao.temperature)))
    throw std::invalid_argument("sample: --temperature must be 0 (greedy) or positive, got " +
                                std::to_string(ao.temperature));
  if (ao.top_k < 0)
    throw std::invalid_argument("sample: --top_k must be 0 (all) or positive, got " +
                                std::to_string(ao.top_k));
  if (!(ao.top_p > 0.0f && ao.top_p <= 1.0f))
    throw std::invalid_argument("sample: --top_p must be in (0, 1], got " +
                                std::to_string(ao.top_p));
  Checkpoint ck = read_checkpoint(a.checkpoint);
  auto tokenizer = checkpoint_tokenizer(ck, a.checkpoint);
  require_memory_for(ck.config, 1, /*training=*/false, a.checkpoint);  // one sequence at a time
  auto model = load_model(a.checkpoint);
  model->set_training(false);
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) prompt = read_file(a.prompt_file);
  std::vector<int32_t> ids;
  try {
    ids = tokenizer->encode(prompt);
  } catch (const std::exception& e) {  // an unseen character, bytes that are not UTF-8, ...
    throw std::runtime_error((a.prompt_file.empty() ? "--prompt" : a.prompt_file) + ": " +
                             e.what());
  }
  if (ids.empty()) {
    if (tokenizer->eot_id() < 0)
      throw std::invalid_argument("empty prompt, and the tokenizer has no <|endoftext|> to start from");
    ids.push_back(tokenizer->eot_id());
  }
  SampleOptions o = a.options;
  o.stop_token = tokenizer->eot_id();
  o.vocab_limit = tokenizer->vocab_size();
  for (int64_t n = 0; n < a.num_samples; n++) {
    if (n > 0) std::printf("\n---------------\n");
    std::printf("%s", prompt.c_str());
    try {
      generate(*model, ids, o, [&](int32_t token) {
        if (token == tokenizer->eot_id()) return;
        std::string bytes = tokenizer->token_bytes(token);
        std::fwrite(bytes.data(), 1, bytes.size(), stdout);
        std::fflush(stdout);
      });
    } catch (const std::runtime_error& e) {  // e.g. NaN logits: the checkpoint is the suspect
      std::printf("\n");
      throw std::runtime_error(a.checkpoint + ": " + e.what());
    }
    std::printf("\n");
    o.seed++;
  }
}

}  // namespace

void add_sample(CLI::App& app) {
  auto a = std::make_shared<SampleArgs>();
  CLI::App* cmd = app.add_subcommand("sample", "generate text from a checkpoint");
  auto config_file = add_config_option(cmd);
  cmd->add_option("--checkpoint", a->checkpoint, "checkpoint file (required)");
  cmd->add_option("--prompt", a->prompt, "text to continue");
  cmd->add_option("--prompt_file", a->prompt_file, "file whose text to continue");
  cmd->add_option("--max_new_tokens", a->options.max_new_tokens, "tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", a->options.temperature, "0: greedy")->capture_default_str();
  cmd->add_option("--top_k", a->options.top_k, "keep the k most likely tokens (0: all)")->capture_default_str();
  cmd->add_option("--top_p", a->options.top_p, "nucleus sampling mass (1: off)")->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "same seed, same text")->transform(seed_range())->capture_default_str();
  cmd->add_option("--num_samples", a->num_samples, "how many samples")->capture_default_str();
  cmd->callback([cmd, a, config_file] {
    const std::set<std::string> from_file = apply_config_file(cmd, *config_file);
    // The prompt is one thing with two spellings: the command line's wins over the file's.
    if (from_file.count("prompt") && !from_file.count("prompt_file") && !a->prompt_file.empty())
      a->prompt.clear();
    if (from_file.count("prompt_file") && !from_file.count("prompt") && !a->prompt.empty())
      a->prompt_file.clear();
    naming_config_file(cmd, from_file, *config_file, [&] { run_sample(*a); });
  });
}

}  // namespace tg::cli

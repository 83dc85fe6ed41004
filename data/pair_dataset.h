// pair_dataset.h — fine-tuning data: (prompt, completion) pairs, each trained as one sequence
//   prompt + completion + <|endoftext|>
// with the loss only on the completion tokens and the final <|endoftext|> (the model learns to
// answer and to stop, not to write prompts). An empty prompt is <|endoftext|>, where `sample`
// starts from one.
//
// Files: JSONL (.jsonl/.json), one {"prompt": ..., "completion": ...} object per line; or TSV
// (.tsv), one "prompt<TAB>completion" per line with \n, \t and \\ escapes. Blank lines are skipped.
//
// Rows of T positions: inputs are the sequence's tokens, targets the next token or -1 (masked).
//  - padded (default): one pair per row, the rest of the row padded (input <|endoftext|>, target -1).
//  - packed: as many whole pairs as fit are laid end to end in a row, then padding; a pair never
//    spans two rows. Fewer rows, less padding; the pairs of a row can attend to each other.
// A pair longer than T + 1 tokens is an error naming its line: silently cutting it would drop
// the completion that fine-tuning is for.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/tokenizer.h"

namespace tg {

struct PromptCompletion {
  std::string prompt, completion;
  int64_t line = 0;  // source line (1-based), for errors; 0 when not from a file
};

// True for the pair formats' extensions: .jsonl, .json, .tsv.
bool is_pairs_file(const std::string& path);

// Reads a .jsonl/.json or .tsv file; errors name the file and line.
std::vector<PromptCompletion> read_prompt_completion_file(const std::string& path);

class PairDataset : public Dataset {
 public:
  // The tokenizer must have an <|endoftext|> token. `where` names the source in errors.
  PairDataset(const std::vector<PromptCompletion>& pairs, const Tokenizer& tokenizer, int64_t block_size,
              bool pack = false, const std::string& where = "pairs");
  static PairDataset from_file(const std::string& path, const Tokenizer& tokenizer, int64_t block_size,
                               bool pack = false);

  int64_t num_examples() const override { return static_cast<int64_t>(row_start_.size()) - 1; }
  int64_t block_size() const override { return T_; }
  void example(int64_t k, int32_t* inputs, int32_t* targets) const override;
  int64_t num_pairs() const { return num_pairs_; }

 private:
  int64_t T_;
  int32_t pad_;
  int64_t num_pairs_ = 0;
  // Rows stored flat: row k is tokens_[row_start_[k] .. row_start_[k+1]) (at most T + 1 tokens),
  // with learn_[i] = whether token i is a completion/eot token (a target that counts).
  std::vector<int32_t> tokens_;
  std::vector<unsigned char> learn_;
  std::vector<int64_t> row_start_{0};
};

}  // namespace tg

// pair_dataset.cpp — see pair_dataset.h.
#include "data/pair_dataset.h"

#include <filesystem>
#include <stdexcept>

#include "data/file_util.h"
#include "data/json.h"
#include "data/utf8.h"

namespace tg {
namespace {

std::string tsv_unescape(const std::string& s, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) throw std::runtime_error(where + ": a backslash ends the field (use \\\\ for a backslash)");
    switch (s[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      default: throw std::runtime_error(where + ": unknown escape \\" + std::string(1, s[i]) + " (known: \\n \\t \\r \\\\)");
    }
  }
  return out;
}

}  // namespace

bool is_pairs_file(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".jsonl" || ext == ".json" || ext == ".tsv";
}

std::vector<PromptCompletion> read_prompt_completion_file(const std::string& path) {
  if (!is_pairs_file(path)) throw std::runtime_error(path + ": unknown pairs format (expected a .jsonl, .json or .tsv file)");
  const bool jsonl = std::filesystem::path(path).extension() != ".tsv";
  const std::string text = read_file(path);
  std::vector<PromptCompletion> pairs;
  size_t start = utf8::bom_length(text);  // a byte-order mark is not the prompt
  int64_t line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string s = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    if (s.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(line);
    PromptCompletion pc;
    pc.line = line;
    if (jsonl) {
      const Json j = Json::parse(s, where);
      j.as_object(where);
      pc.prompt = j.at("prompt", where).as_string(where + ": key \"prompt\"");
      pc.completion = j.at("completion", where).as_string(where + ": key \"completion\"");
    } else {
      const size_t tab = s.find('\t');
      if (tab == std::string::npos || s.find('\t', tab + 1) != std::string::npos)
        throw std::runtime_error(where + ": expected exactly two tab-separated fields: prompt<TAB>completion");
      pc.prompt = tsv_unescape(s.substr(0, tab), where);
      pc.completion = tsv_unescape(s.substr(tab + 1), where);
    }
    if (pc.completion.empty()) throw std::runtime_error(where + ": empty completion, nothing to learn");
    pairs.push_back(std::move(pc));
  }
  if (pairs.empty()) throw std::runtime_error(path + ": no (prompt, completion) pairs found");
  return pairs;
}

PairDataset::PairDataset(const std::vector<PromptCompletion>& pairs, const Tokenizer& tokenizer, int64_t block_size,
                         bool pack, const std::string& where)
    : T_(block_size), pad_(tokenizer.eot_id()) {
  if (T_ < 1) throw std::invalid_argument("PairDataset: block_size must be >= 1, got " + std::to_string(T_));
  if (pad_ < 0)
    throw std::runtime_error(where + ": the " + tokenizer.kind() +
                             " tokenizer has no <|endoftext|> token to end each completion (use bpe or gpt2)");
  if (pairs.empty()) throw std::runtime_error(where + ": no pairs");
  std::vector<int32_t> seq;
  std::vector<unsigned char> learn;
  for (const PromptCompletion& pc : pairs) {
    seq = tokenizer.encode(pc.prompt);
    // An empty prompt starts from <|endoftext|>, as `sample` starts one: position 0 is never
    // a target, so without it the completion's first token would never be learned.
    if (seq.empty()) seq.push_back(pad_);
    const size_t prompt_len = seq.size();
    const std::vector<int32_t> completion = tokenizer.encode(pc.completion);
    seq.insert(seq.end(), completion.begin(), completion.end());
    seq.push_back(pad_);
    learn.assign(seq.size(), 1);
    std::fill(learn.begin(), learn.begin() + static_cast<int64_t>(prompt_len), 0);
    // A sequence of L tokens gives L - 1 (input, target) positions, so it needs L <= T + 1.
    if (static_cast<int64_t>(seq.size()) > T_ + 1)
      throw std::runtime_error(where + (pc.line ? " line " + std::to_string(pc.line) : std::string()) + ": pair is " +
                               std::to_string(seq.size()) + " tokens with <|endoftext|>, longer than block_size + 1 = " +
                               std::to_string(T_ + 1));
    const int64_t row_len = static_cast<int64_t>(tokens_.size()) - row_start_.back();
    if (!pack || row_len + static_cast<int64_t>(seq.size()) > T_ + 1) {
      if (row_len > 0) row_start_.push_back(static_cast<int64_t>(tokens_.size()));
    }
    tokens_.insert(tokens_.end(), seq.begin(), seq.end());
    learn_.insert(learn_.end(), learn.begin(), learn.end());
    ++num_pairs_;
  }
  row_start_.push_back(static_cast<int64_t>(tokens_.size()));
}

PairDataset PairDataset::from_file(const std::string& path, const Tokenizer& tokenizer, int64_t block_size, bool pack) {
  return PairDataset(read_prompt_completion_file(path), tokenizer, block_size, pack, path);
}

void PairDataset::example(int64_t k, int32_t* inputs, int32_t* targets) const {
  if (k < 0 || k >= num_examples())
    throw std::out_of_range("pair example " + std::to_string(k) + " outside [0, " + std::to_string(num_examples()) + ")");
  const int64_t start = row_start_[k], len = row_start_[k + 1] - start;  // len <= T + 1
  for (int64_t t = 0; t < T_; ++t) {
    if (t + 1 < len) {
      inputs[t] = tokens_[start + t];
      targets[t] = learn_[start + t + 1] ? tokens_[start + t + 1] : -1;
    } else {
      inputs[t] = t < len ? tokens_[start + t] : pad_;
      targets[t] = -1;
    }
  }
}

}  // namespace tg

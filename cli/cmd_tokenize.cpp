// cmd_tokenize.cpp — `tapegpt tokenize`: text → one line of space-separated ids, or with
// --decode, ids → text (written exactly, with no newline added, so round trips are byte-exact).
#include <cctype>
#include <climits>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/file_util.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "train/checkpoint.h"

namespace tg::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer, text, input;
  bool decode = false;
};

std::vector<int32_t> parse_ids(const std::string& s, const std::string& where) {
  std::vector<int32_t> ids;
  size_t i = utf8::bom_length(s);
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    const std::string word = s.substr(i, j - i);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || !std::isdigit(static_cast<unsigned char>(word[0])) || v < 0 || v > INT32_MAX)
      throw std::runtime_error(where + ": \"" + word + "\" is not a token id (a non-negative integer)");
    ids.push_back(static_cast<int32_t>(v));
    i = j;
  }
  return ids;
}

}  // namespace

void add_tokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "encode text to token ids, or decode ids to text");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json, a checkpoint (.h5), or a directory with GPT-2's encoder.json and vocab.bpe")
      ->required();
  auto* text = cmd->add_option("--text", o->text, "the text (or, with --decode, the ids)");
  auto* input = cmd->add_option("--input", o->input, "a file holding the text (or, with --decode, the ids)");
  text->excludes(input);
  cmd->add_flag("--decode", o->decode, "read token ids, print the text");
  cmd->callback([o, text, input] {
    if (text->count() == 0 && input->count() == 0) throw std::runtime_error("tokenize: give --text or --input");
    const std::unique_ptr<Tokenizer> tok = tokenizer_named_by(o->tokenizer);
    const bool from_file = input->count() > 0;
    const std::string where = from_file ? o->input : "--text";
    const std::string data = from_file ? read_file(o->input) : o->text;
    if (o->decode) {
      std::string out;
      try {
        out = tok->decode(parse_ids(data, where));
      } catch (const std::out_of_range& e) {
        throw std::runtime_error(where + ": " + e.what());
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      return;
    }
    std::vector<int32_t> ids;
    try {
      ids = tok->encode(data);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
    std::string line;
    line.reserve(ids.size() * 6);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  });
}

}  // namespace tg::cli

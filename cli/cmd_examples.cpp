// cmd_examples.cpp — `tapegpt examples`: shows the next-token examples a text becomes, as the
// classic illustration does: one row per position, the tokens so far (input features) and the
// token that follows (the correct output label), decoded back to text.
//
// The rows come from the real SlidingWindowDataset, so the table is exactly what training with
// the same stride sees: within a window the context grows one token per row; a new window
// starts with an empty context; a last partial window is dropped (and said so). The stride is
// block_size unless --stride says otherwise (training's default is 1: every window, which
// would repeat each token block_size times here).
// Without --tokenizer, a char tokenizer is built from the text itself.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/char_tokenizer.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "train/checkpoint.h"

namespace tg::cli {
namespace {

struct ExamplesOptions {
  std::string tokenizer, text;
  int64_t block_size = 0, stride = 0;
};

constexpr size_t kMaxInputColumns = 80;
// And bytes: combining marks take no column, and a cell of them grew to the whole context.
constexpr size_t kMaxInputBytes = 4 * kMaxInputColumns;

// Terminal columns of a printable code point: 2 for East Asian wide and fullwidth characters
// and emoji, 0 for combining marks, zero-width characters and variation selectors, else 1 (the
// common ranges of Unicode's East_Asian_Width, enough to keep the table's columns aligned).
size_t columns_of(char32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF)
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) ||
      (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F900 && cp <= 0x1F9FF) ||
      (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

// Quoted, with control characters and invalid bytes escaped (a byte-level token can be part of a
// UTF-8 sequence); returns the text and its width in terminal columns.
std::string printable(const std::string& s, size_t* width) {
  std::string out = "\"";
  *width = 1;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    const size_t len = utf8::decode(s, i, &cp);
    char buf[8];
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
      out += buf, *width += 4, i += 1;
      continue;
    }
    if (cp == '\n') out += "\\n", *width += 2;
    else if (cp == '\t') out += "\\t", *width += 2;
    else if (cp == '"') out += "\\\"", *width += 2;
    else if (cp == '\\') out += "\\\\", *width += 2;
    else if (cp < 0x20 || cp == 0x7F) std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp)), out += buf, *width += 4;
    else out.append(s, i, len), *width += columns_of(cp);
    i += len;
  }
  out += '"';
  *width += 1;
  return out;
}

// Keeps the last of ids that fit kMaxInputColumns columns, so the table stays readable ("…"
// marks the cut).
// Grown from the end, a token at a time, while it fits: a row costs the few tokens it shows (cut
// from the front instead, each row decoded all of its tokens again per token dropped, and a
// --text of a few thousand characters took minutes).
std::string input_cell(const Tokenizer& tok, const int32_t* ids, int64_t n, size_t* width) {
  auto cell_from = [&](int64_t first, size_t* w) {
    return printable(tok.decode(std::vector<int32_t>(ids + first, ids + n)), w);
  };
  int64_t first = std::max<int64_t>(0, n - 1);  // the last token is shown even if too wide
  std::string cell = cell_from(first, width);
  while (first > 0) {
    size_t wider_width = 0;
    std::string wider = cell_from(first - 1, &wider_width);
    if (wider_width > kMaxInputColumns || wider.size() > kMaxInputBytes) break;
    cell = std::move(wider);
    *width = wider_width;
    --first;
  }
  if (first > 0) cell = "…" + cell, *width += 1;
  return cell;
}

void print_row(const std::string& num, const std::string& in, size_t in_width, size_t col, const std::string& out) {
  std::string line = num;
  line += "  " + in + std::string(col > in_width ? col - in_width : 0, ' ') + "  " + out + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace

void add_examples(CLI::App& app) {
  auto o = std::make_shared<ExamplesOptions>();
  CLI::App* cmd = app.add_subcommand("examples", "print the sliding-window training examples of a text as a table");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json or a checkpoint (.h5) (default: a char tokenizer built from --text)");
  cmd->add_option("--text", o->text, "the text")->required();
  cmd->add_option("--block_size", o->block_size, "T: context length (0, the default: the whole text as one window)");
  cmd->add_option("--stride", o->stride, "S: offset between windows (0, the default: block_size)");
  cmd->callback([o] {
    if (o->block_size < 0 || o->stride < 0)
      throw std::invalid_argument("examples: --block_size and --stride must not be negative (0: default)");
    std::unique_ptr<Tokenizer> tok;
    std::string about;
    if (o->tokenizer.empty()) {
      tok = std::make_unique<CharTokenizer>(CharTokenizer::from_text(o->text, "--text"));
      about = "char tokenizer built from the text, vocab " + std::to_string(tok->vocab_size());
    } else {
      tok = tokenizer_named_by(o->tokenizer);
      about = tok->kind() + " tokenizer " + o->tokenizer + ", vocab " + std::to_string(tok->vocab_size());
    }
    std::vector<int32_t> ids;
    try {
      ids = tok->encode(o->text);
    } catch (const std::exception& e) {  // a character the tokenizer has not seen, ...
      throw std::runtime_error(std::string("--text: ") + e.what());
    }
    const auto n = static_cast<int64_t>(ids.size());
    const int64_t T = o->block_size > 0 ? o->block_size : std::max<int64_t>(1, n - 1);
    const int64_t S = o->stride > 0 ? o->stride : T;
    SlidingWindowDataset data(std::make_shared<const TokenVector>(std::move(ids), tok->vocab_size(), "--text"), T, S);

    std::printf("%lld tokens (%s); block_size %lld, stride %lld: %lld window%s, %lld example%s\n",
                static_cast<long long>(n), about.c_str(), static_cast<long long>(T), static_cast<long long>(S),
                static_cast<long long>(data.num_examples()), data.num_examples() == 1 ? "" : "s",
                static_cast<long long>(data.num_examples() * T), data.num_examples() * T == 1 ? "" : "s");
    const int64_t covered = (data.num_examples() - 1) * S + T + 1;
    if (covered < n)
      std::printf("(the last %lld tokens do not fill a whole window: dropped, as training with stride %lld does)\n",
                  static_cast<long long>(n - covered), static_cast<long long>(S));

    // Build all cells first to size the input column.
    struct Row {
      std::string num, in, out;
      size_t in_width;
    };
    std::vector<Row> rows;
    std::vector<int32_t> in(T), targets(T);
    int64_t count = 0;
    for (int64_t k = 0; k < data.num_examples(); ++k) {
      data.example(k, in.data(), targets.data());
      for (int64_t t = 0; t < T; ++t) {
        Row r;
        r.num = std::to_string(++count);
        r.in = input_cell(*tok, in.data(), t + 1, &r.in_width);
        size_t w;
        r.out = printable(tok->token_bytes(targets[t]), &w);
        rows.push_back(std::move(r));
      }
    }
    size_t col = std::string("input (features)").size(), numw = 1;
    for (const Row& r : rows) col = std::max(col, r.in_width), numw = std::max(numw, r.num.size());
    auto pad_left = [&](const std::string& s) { return std::string(numw > s.size() ? numw - s.size() : 0, ' ') + s; };
    print_row(pad_left("#"), "input (features)", 16, col, "correct output (label)");
    for (const Row& r : rows) print_row(pad_left(r.num), r.in, r.in_width, col, r.out);
  });
}

}  // namespace tg::cli

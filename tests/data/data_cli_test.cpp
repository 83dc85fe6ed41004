// data_cli_test.cpp — `tapegpt tokenize` and `tapegpt examples`: output format, round trips and
// one-line errors with a non-zero exit.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "data/char_tokenizer.h"
#include "data/tokenizer.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::run;
using test::ScratchDir;
using test::sh;

TEST(TokenizeCli, EncodesAndDecodesWithGpt2) {
  TG_REQUIRE_GPT2_FILES();
  const std::string tok = " tokenize --tokenizer " + sh(test::gpt2_dir());
  auto r = run(test::tapegpt() + tok + " --text 'Hello world'", false);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "15496 995\n");
  r = run(test::tapegpt() + tok + " --text ' Hello world'", false);
  EXPECT_EQ(r.output, "18435 995\n");
  r = run(test::tapegpt() + tok + " --decode --text '18435 995'", false);
  EXPECT_EQ(r.output, " Hello world");
  r = run(test::tapegpt() + tok + " --decode --text '18435 99999'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: --text: token id 99999 is out of range for a gpt2 vocabulary of 50257\n");
  r = run(test::tapegpt() + tok + " --decode --text '1 two'");
  EXPECT_EQ(r.output, "tapegpt: error: --text: \"two\" is not a token id (a non-negative integer)\n");
}

TEST(TokenizeCli, CharTokenizerFileAndErrors) {
  ScratchDir dir;
  save_tokenizer(CharTokenizer::from_text("abc \n"), dir / "tok.json");
  test::write_text(dir / "in.txt", "cab\nba c");
  auto r = run(test::tapegpt() + " tokenize --tokenizer " + sh(dir / "tok.json") + " --input " + sh(dir / "in.txt"), false);
  EXPECT_EQ(r.output, "4 2 3 0 3 2 1 4\n");
  test::write_text(dir / "ids.txt", r.output);
  r = run(test::tapegpt() + " tokenize --decode --tokenizer " + sh(dir / "tok.json") + " --input " + sh(dir / "ids.txt"), false);
  EXPECT_EQ(r.output, "cab\nba c");
  r = run(test::tapegpt() + " tokenize --tokenizer " + sh(dir / "tok.json") + " --text 'abz'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: --text: char tokenizer: character 'z' (U+007A) at byte offset 2 is not in the vocabulary\n");
  r = run(test::tapegpt() + " tokenize --tokenizer " + sh(dir / "nope.json") + " --text 'a'");
  EXPECT_EQ(r.output, "tapegpt: error: " + dir / "nope.json" + ": cannot open (No such file or directory)\n");
  r = run(test::tapegpt() + " tokenize --tokenizer " + sh(dir / "tok.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: tokenize: give --text or --input\n");
  // An ids file an editor saved with a byte-order mark; a signed number is not an id.
  test::write_text(dir / "bom_ids.txt", "\xEF\xBB\xBF" "4 2 3");
  r = run(test::tapegpt() + " tokenize --decode --tokenizer " + sh(dir / "tok.json") + " --input " + sh(dir / "bom_ids.txt"), false);
  EXPECT_EQ(r.output, "cab");
  r = run(test::tapegpt() + " tokenize --decode --tokenizer " + sh(dir / "tok.json") + " --text '+4'");
  EXPECT_EQ(r.output, "tapegpt: error: --text: \"+4\" is not a token id (a non-negative integer)\n");
}

// Output that cannot be written (a full disk behind `> ids.txt`) is an error, not a success.
TEST(TokenizeCli, AFailedWriteToStandardOutputIsAnError) {
  ScratchDir dir;
  save_tokenizer(CharTokenizer::from_text("abc \n"), dir / "tok.json");
  for (const std::string& args : {" tokenize --tokenizer " + sh(dir / "tok.json") + " --text 'cab'",
                                  std::string(" examples --text hello")}) {
    const auto r = run(test::tapegpt() + args + " 2>&1 >/dev/full", false);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_EQ(r.output, "tapegpt: error: writing to standard output: No space left on device\n") << args;
  }
}

TEST(ExamplesCli, PrintsOneRowPerPositionOutOfTheBox) {
  const std::string text = "Second Law of Robotics: A robot must obey the orders given it by human beings";
  const auto r = run(test::tapegpt() + " examples --text " + sh(text), false);
  ASSERT_EQ(r.status, 0) << r.output;
  // Header line, column titles, then 76 rows: "S" → "e", "Se" → "c", ..., the text minus its
  // last character → "s".
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < r.output.size()) {
    const size_t nl = r.output.find('\n', start);
    lines.push_back(r.output.substr(start, nl - start));
    start = nl + 1;
  }
  ASSERT_EQ(lines.size(), 2u + 76u) << r.output;
  EXPECT_EQ(lines[0], "77 tokens (char tokenizer built from the text, vocab 25); block_size 76, stride 76: 1 window, 76 examples");
  EXPECT_NE(lines[1].find("input (features)"), std::string::npos);
  EXPECT_NE(lines[1].find("correct output (label)"), std::string::npos);
  EXPECT_EQ(lines[2].substr(0, 9), " 1  \"S\"  ");
  EXPECT_EQ(lines[2].substr(lines[2].size() - 3), "\"e\"");
  EXPECT_EQ(lines[3].substr(0, 10), " 2  \"Se\"  ");
  EXPECT_NE(lines.back().find("\"" + text.substr(0, 76) + "\""), std::string::npos) << lines.back();
  EXPECT_EQ(lines.back().substr(lines.back().size() - 3), "\"s\"");
}

// A long text's inputs are cut at the front to 80 columns, quotes included, "…" marking the cut.
TEST(ExamplesCli, LongInputsShowTheirLastEightyColumns) {
  std::string text;
  for (int i = 0; i < 300; i++) text += "abcdefghij";
  const auto r = run(test::tapegpt() + " examples --text " + sh(text), false);
  ASSERT_EQ(r.status, 0) << r.output.substr(0, 400);
  const size_t last_row = r.output.rfind("\n2999  ");
  ASSERT_NE(last_row, std::string::npos);
  const std::string row = r.output.substr(last_row + 1);
  EXPECT_NE(row.find("…\"" + text.substr(2999 - 78, 78) + "\""), std::string::npos) << row;
  EXPECT_EQ(row.substr(row.size() - 4), "\"j\"\n") << row;
}

// Combining marks take no column: the cell is also capped in bytes (it grew to the whole
// context, each row decoding it once per token added, and 2,000 marks took minutes).
TEST(ExamplesCli, ZeroWidthTextIsCappedToo) {
  std::string text = "a";
  for (int i = 0; i < 2000; i++) text += "\xCC\x81";  // U+0301, a combining acute accent
  const auto r = run(test::tapegpt() + " examples --text " + sh(text), false);
  ASSERT_EQ(r.status, 0) << r.output.substr(0, 400);
  std::istringstream lines(r.output);
  size_t longest = 0;
  for (std::string line; std::getline(lines, line);) longest = std::max(longest, line.size());
  EXPECT_LT(longest, 400u);
  EXPECT_NE(r.output.find("\n2000  …\""), std::string::npos) << r.output.substr(r.output.size() - 800);
}

// Wide (CJK) characters take two terminal columns: the target column stays aligned.
TEST(ExamplesCli, WideCharactersKeepTheColumnsAligned) {
  const auto r = run(test::tapegpt() + " examples --text " + sh("日本語aの本x") + " --block_size 6", false);
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  std::set<size_t> target_columns;
  for (std::string line; std::getline(lines, line);) {
    const size_t number_end = line.find_first_not_of("0123456789");
    if (number_end == 0 || number_end == std::string::npos || line.compare(number_end, 3, "  \"") != 0)
      continue;  // not an example's row
    const std::string before = line.substr(0, line.rfind("  \""));  // up to the target cell
    size_t columns = 0;
    for (size_t i = 0; i < before.size(); i++) {
      const auto byte = static_cast<unsigned char>(before[i]);
      if ((byte & 0xC0) == 0x80) continue;   // a continuation byte
      columns += byte >= 0xE3 && byte <= 0xE9 ? 2 : 1;  // U+3000-U+9FFF: wide
    }
    target_columns.insert(columns);
  }
  EXPECT_EQ(target_columns.size(), 1u) << r.output;
}

TEST(ExamplesCli, WindowsOfBlockSizeAndErrors) {
  auto r = run(test::tapegpt() + " examples --text 'abcdefghij' --block_size 4", false);
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("block_size 4, stride 4: 2 windows, 8 examples"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the last 1 tokens do not fill a whole window: dropped, as training with stride 4 does"),
            std::string::npos) << r.output;
  // A new window starts afresh: row 5 has the context "e" alone.
  const size_t row5 = r.output.find("\n5  \"e\" ");
  ASSERT_NE(row5, std::string::npos) << r.output;
  EXPECT_EQ(r.output.substr(r.output.find('\n', row5 + 1) - 3, 3), "\"f\"");
  // Whole numbers are decimal: a leading zero is not octal (CLI11 alone read 010 as 8).
  r = run(test::tapegpt() + " examples --text 'abcdefghijklm' --block_size 010", false);
  EXPECT_NE(r.output.find("block_size 10,"), std::string::npos) << r.output;
  r = run(test::tapegpt() + " examples --text 'abcdefghijklm' --block_size 0x4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("a whole number from"), std::string::npos) << r.output;
  r = run(test::tapegpt() + " examples --text 'abc' --block_size 3");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: --text: 3 tokens, too few for one example of block_size 3 (needs at least 4)\n");
}

}  // namespace
}  // namespace tg

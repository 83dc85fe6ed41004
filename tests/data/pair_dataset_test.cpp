// pair_dataset_test.cpp — (prompt, completion) pairs: masking of prompt tokens, padding,
// packing, file formats and their errors.
#include <gtest/gtest.h>

#include "data/char_tokenizer.h"
#include "data/pair_dataset.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::ScratchDir;
using test::write_text;

// Ids: ':'=0 'a'=1 'b'=2 'c'=3 'x'=4 'y'=5, <|endoftext|>=6.
const CharTokenizer& tok() {
  static const CharTokenizer t = CharTokenizer::from_text("abc:xy", "test", /*with_eot=*/true);
  return t;
}

TEST(PairDataset, OnlyCompletionAndEndOfTextAreTargets) {
  // "ab:" + "xy" + eot = [1 2 0 4 5 6]; inputs are the first 5, targets the next 5, the first
  // two targets (prompt tokens ':' ... ) are masked.
  PairDataset d({{"ab:", "xy"}}, tok(), /*T=*/8);
  ASSERT_EQ(d.num_examples(), 1);
  std::vector<int32_t> in(8), tg(8);
  d.example(0, in.data(), tg.data());
  EXPECT_EQ(in, (std::vector<int32_t>{1, 2, 0, 4, 5, 6, 6, 6}));     // padded with eot
  EXPECT_EQ(tg, (std::vector<int32_t>{-1, -1, 4, 5, 6, -1, -1, -1}));  // predict x, y, then stop
}

// An empty prompt starts from <|endoftext|>, as `sample` does with one: every completion
// token is a target, the first included (position 0 is never one). Packed, the same.
TEST(PairDataset, AnEmptyPromptStartsFromEndOfText) {
  std::vector<int32_t> in(6), tg(6);
  for (bool pack : {false, true}) {
    PairDataset d({{"", "xy"}, {"", "x"}}, tok(), /*T=*/6, pack);
    d.example(0, in.data(), tg.data());
    EXPECT_EQ(in[0], 6) << pack;
    EXPECT_EQ(tg, pack ? (std::vector<int32_t>{4, 5, 6, -1, 4, 6})
                       : (std::vector<int32_t>{4, 5, 6, -1, -1, -1}));
  }
}

TEST(PairDataset, ExactFitAndTooLongPairs) {
  PairDataset fit({{"ab:", "xy"}}, tok(), /*T=*/5);  // 6 tokens = T + 1: fits exactly
  std::vector<int32_t> in(5), tg(5);
  fit.example(0, in.data(), tg.data());
  EXPECT_EQ(tg, (std::vector<int32_t>{-1, -1, 4, 5, 6}));
  try {
    PairDataset({{"ab:", "xy", 12}}, tok(), /*T=*/4, false, "pairs.jsonl");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "pairs.jsonl line 12: pair is 6 tokens with <|endoftext|>, longer than block_size + 1 = 5");
  }
}

TEST(PairDataset, PackingPutsWholePairsEndToEnd) {
  const std::vector<PromptCompletion> pairs = {{"a:", "x"}, {"b:", "y"}, {"c:", "xy"}};  // 4, 4, 5 tokens
  PairDataset padded(pairs, tok(), /*T=*/8);
  EXPECT_EQ(padded.num_examples(), 3);
  PairDataset packed(pairs, tok(), /*T=*/8, /*pack=*/true);
  EXPECT_EQ(packed.num_examples(), 2);  // 4 + 4 <= 9, then 5
  EXPECT_EQ(packed.num_pairs(), 3);
  std::vector<int32_t> in(8), tg(8);
  packed.example(0, in.data(), tg.data());
  EXPECT_EQ(in, (std::vector<int32_t>{1, 0, 4, 6, 2, 0, 5, 6}));
  // The eot of pair 1 does not learn to predict pair 2's prompt.
  EXPECT_EQ(tg, (std::vector<int32_t>{-1, 4, 6, -1, -1, 5, 6, -1}));
  packed.example(1, in.data(), tg.data());
  EXPECT_EQ(tg, (std::vector<int32_t>{-1, 4, 5, 6, -1, -1, -1, -1}));
}

TEST(PairDataset, NeedsAnEndOfTextToken) {
  const CharTokenizer no_eot = CharTokenizer::from_text("ab:xy");
  EXPECT_THROW(PairDataset({{"a:", "x"}}, no_eot, 8), std::runtime_error);
}

TEST(PairDataset, ReadsJsonlAndTsv) {
  ScratchDir dir;
  write_text(dir / "p.jsonl", "{\"prompt\": \"a:\", \"completion\": \"x\"}\n\n{\"completion\": \"y\", \"prompt\": \"\\u0062:\"}\n");
  const auto j = read_prompt_completion_file(dir / "p.jsonl");
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1].prompt, "b:");
  EXPECT_EQ(j[1].line, 3);
  write_text(dir / "p.tsv", "english: cat\\nfrench:\t chat\nx\\ty\t\\\\\n");
  const auto t = read_prompt_completion_file(dir / "p.tsv");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].prompt, "english: cat\nfrench:");
  EXPECT_EQ(t[0].completion, " chat");
  EXPECT_EQ(t[1].prompt, "x\ty");
  EXPECT_EQ(t[1].completion, "\\");
  const PairDataset d = PairDataset::from_file(dir / "p.jsonl", tok(), 6);
  EXPECT_EQ(d.num_examples(), 2);
  // An editor's byte-order mark is not part of the first prompt (nor JSON to parse).
  write_text(dir / "bom.tsv", "\xEF\xBB\xBF" "a:\tx\n");
  EXPECT_EQ(read_prompt_completion_file(dir / "bom.tsv")[0].prompt, "a:");
  write_text(dir / "bom.jsonl", "\xEF\xBB\xBF{\"prompt\": \"a:\", \"completion\": \"x\"}\n");
  EXPECT_EQ(read_prompt_completion_file(dir / "bom.jsonl")[0].prompt, "a:");
}

std::string read_error(const std::string& path) {
  try {
    read_prompt_completion_file(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(PairDataset, MalformedLinesAreReportedWithTheirLineNumber) {
  ScratchDir dir;
  const std::string d = dir.path() + "/";
  write_text(d + "bad.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\", \"completion\": }\n");
  EXPECT_EQ(read_error(d + "bad.jsonl"), d + "bad.jsonl line 2: invalid JSON at line 1 column 31: unexpected character '}'");
  write_text(d + "nokey.jsonl", "{\"prompt\": \"a\"}\n");
  EXPECT_EQ(read_error(d + "nokey.jsonl"), d + "nokey.jsonl line 1: missing key \"completion\"");
  write_text(d + "type.jsonl", "{\"prompt\": 3, \"completion\": \"b\"}\n");
  EXPECT_EQ(read_error(d + "type.jsonl"), d + "type.jsonl line 1: key \"prompt\": expected a string, found a number");
  write_text(d + "arr.jsonl", "[1, 2]\n");
  EXPECT_EQ(read_error(d + "arr.jsonl"), d + "arr.jsonl line 1: expected an object, found an array");
  write_text(d + "bad.tsv", "a\tb\nno tab here\n");
  EXPECT_EQ(read_error(d + "bad.tsv"), d + "bad.tsv line 2: expected exactly two tab-separated fields: prompt<TAB>completion");
  write_text(d + "empty.jsonl", "\n\n");
  EXPECT_EQ(read_error(d + "empty.jsonl"), d + "empty.jsonl: no (prompt, completion) pairs found");
  write_text(d + "pairs.csv", "a,b\n");
  EXPECT_EQ(read_error(d + "pairs.csv"), d + "pairs.csv: unknown pairs format (expected a .jsonl, .json or .tsv file)");
  EXPECT_EQ(read_error(d + "missing.jsonl"), d + "missing.jsonl: cannot open (No such file or directory)");
}

}  // namespace
}  // namespace tg

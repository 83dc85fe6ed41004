// prepare_test.cpp — `tapegpt prepare` (library and command line): outputs, the split at a line
// boundary, chunked encoding identical to whole-text encoding, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "data/bpe_tokenizer.h"
#include "data/corpus_reader.h"
#include "data/file_util.h"
#include "data/json.h"
#include "data/prepare.h"
#include "data/token_file.h"
#include "data/tokenizer.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::run;
using test::ScratchDir;
using test::sh;
using test::write_text;

std::string sample_corpus(size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* words[] = {"the", "robot", "must", "obey", "orders", "given", "by", "human", "beings", "Law", "it's",
                         "don't", "café", "naïve", "日本", "😀", "42", "3.14", "!", "?", "--", "\"quoted\"", "  ", "\t"};
  std::string s;
  while (s.size() < bytes) {
    s += words[rng() % (sizeof words / sizeof *words)];
    const uint64_t r = rng() % 20;
    s += r == 0 ? "\n\n" : r < 3 ? "\n" : r < 4 ? "   " : " ";
  }
  return s + "\n";
}

TEST(Prepare, CharSplitsAtALineBoundaryAndWritesEverything) {
  ScratchDir dir;
  write_text(dir / "a.txt", "first line\nsecond line\n");  // 23 bytes
  write_text(dir / "b.txt", "third line\nfourth\n");  // 41 bytes in all; 90% is byte 36
  PrepareOptions o;
  o.inputs = {dir / "a.txt", dir / "b.txt"};
  o.tokenizer = "char";
  o.out_dir = dir / "out";
  const PrepareResult r = prepare_corpus(o);
  EXPECT_EQ(r.train_bytes + r.val_bytes, 41);
  // No line starts at or after byte 36 (but before the end): the last one before it, "fourth\n".
  EXPECT_EQ(r.val_bytes, 7);
  const auto tok = load_tokenizer(dir / "out/tokenizer.json");
  EXPECT_EQ(tok->decode(TokenFile::open(dir / "out/train.bin").read_all()), "first line\nsecond line\nthird line\n");
  EXPECT_EQ(tok->decode(TokenFile::open(dir / "out/val.bin").read_all()), "fourth\n");
  const Json meta = Json::parse(read_file(dir / "out/meta.json"), "meta.json");
  EXPECT_EQ(meta.at("tokenizer", "m").as_string("m"), "char");
  EXPECT_EQ(meta.at("vocab_size", "m").as_int("m"), tok->vocab_size());
  EXPECT_EQ(meta.at("train_tokens", "m").as_int("m"), 34);
  EXPECT_EQ(meta.at("val_tokens", "m").as_int("m"), 7);
  const auto& sources = meta.at("sources", "m").as_array("m");
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[1].at("bytes", "m").as_int("m"), 18);
}

TEST(Prepare, SplitFallsBackToTheLastLineBeforeTheTarget) {
  ScratchDir dir;
  write_text(dir / "c.txt", "line one\na very long last line without a break");
  PrepareOptions o{{dir / "c.txt"}, "char", 0, "", dir / "out", 0.1};
  EXPECT_EQ(prepare_corpus(o).train_bytes, 9);
  write_text(dir / "one.txt", "no line break at all");
  PrepareOptions p{{dir / "one.txt"}, "char", 0, "", dir / "out2", 0.1};
  EXPECT_THROW(prepare_corpus(p), std::runtime_error);
  p.val_fraction = 0;
  const PrepareResult r = prepare_corpus(p);
  EXPECT_EQ(r.val_tokens, 0);
  EXPECT_EQ(TokenFile::open(dir / "out2/val.bin").size(), 0);
}

// The main job prepares into data_cache/fortunes-char in a fresh clone, where data_cache/ does
// not exist yet: missing parents are created. A path under a regular file is refused by name.
TEST(Prepare, CreatesMissingParentDirectories) {
  ScratchDir dir;
  write_text(dir / "c.txt", "line one\nline two\n");
  PrepareOptions o{{dir / "c.txt"}, "char", 0, "", dir / "cache/nested/out", 0.1};
  prepare_corpus(o);
  EXPECT_TRUE(is_directory(dir / "cache/nested/out"));
  EXPECT_GT(TokenFile::open(dir / "cache/nested/out/train.bin").size(), 0);
  o.out_dir = dir / "c.txt/out";
  try {
    prepare_corpus(o);
    FAIL() << "an output directory under a file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("c.txt/out: cannot create output directory"),
              std::string::npos)
        << e.what();
  }
}

// Prepares dir/c.txt with the tokenizer `kind` in chunks of 1,000 bytes (hundreds of chunks, cut
// at the safe points) into dir/out_<kind>; returns the options used.
PrepareOptions prepare_in_small_chunks(const ScratchDir& dir, const std::string& kind) {
  PrepareOptions o;
  o.inputs = {dir / "c.txt"};
  o.tokenizer = kind;
  o.vocab_size = 400;
  o.gpt2_dir = test::gpt2_dir();
  o.out_dir = dir / ("out_" + kind);
  o.val_fraction = 0;
  o.chunk_bytes = 1000;
  prepare_corpus(o);
  return o;
}

TEST(Prepare, ChunkedEncodingEqualsEncodingTheWholeText) {
  TG_REQUIRE_GPT2_FILES();
  ScratchDir dir;
  const std::string text = sample_corpus(200000, 9);
  write_text(dir / "c.txt", text);
  for (const std::string kind : {"char", "gpt2", "bpe"}) {
    const PrepareOptions o = prepare_in_small_chunks(dir, kind);
    const auto tok = load_tokenizer(o.out_dir + "/tokenizer.json");
    const std::vector<int32_t> ids = TokenFile::open(o.out_dir + "/train.bin").read_all();
    EXPECT_EQ(ids, tok->encode(text)) << kind;
    EXPECT_EQ(tok->decode(ids), text) << kind;
  }
}

// Text whose spaces and newlines follow no ASCII character (CJK lines ending in 。, accents,
// emoji, Unicode spaces before a newline) is still cut at safe points, not blindly once a chunk
// has grown to 16 times its size, and gives the ids of the whole text.
TEST(Prepare, ChunksOfTextWithoutAsciiCutAtSafePointsToo) {
  TG_REQUIRE_GPT2_FILES();
  ScratchDir dir;
  std::string text;
  const char* lines[] = {"日本語のテキストです。\n", "東京\u3000大阪 京都\n", "naïve café\n", "👍🏽 ok\u00a0\n",
                         "e\u0301 \n", "漢字かなカナ、ひらがな。\n\n", "Ελληνικά κείμενα\n", "٣٤٥ ١٢٣\n"};
  for (int i = 0; text.size() < 100000; i++) text += lines[(i * 7 + i / 3) % 8];
  write_text(dir / "c.txt", text);
  for (const std::string kind : {"gpt2", "bpe"}) {
    const PrepareOptions o = prepare_in_small_chunks(dir, kind);
    const auto tok = load_tokenizer(o.out_dir + "/tokenizer.json");
    EXPECT_EQ(TokenFile::open(o.out_dir + "/train.bin").read_all(), tok->encode(text)) << kind;
  }
  size_t longest = 0;
  for_each_chunk(dir / "c.txt", 0, static_cast<int64_t>(text.size()), 1000, CutRule::kPreSplit,
                 [&](std::string_view chunk, int64_t) { longest = std::max(longest, chunk.size()); });
  EXPECT_LT(longest, 2000u);  // cut near every 1,000 bytes, not grown to 16,000 and cut blind
  EXPECT_EQ(last_safe_cut("東京 大阪", CutRule::kPreSplit), 6u);  // after 京, not inside a word
  EXPECT_EQ(last_safe_cut("a\u3000 b", CutRule::kPreSplit), 0u);   // a space after a space
}

// Text the char tokenizer has no id for, past the first chunk of the file: the error gives its
// offset in the file (each chunk is encoded on its own, and counted from 0 before).
TEST(Prepare, AnUnknownCharacterIsReportedAtItsOffsetInTheFile) {
  ScratchDir dir;
  write_text(dir / "known.txt", "ab\n");
  PrepareOptions o{{dir / "known.txt"}, "char", 0, "", dir / "vocab", 0};
  prepare_corpus(o);
  std::string text;
  for (int i = 0; i < 300; i++) text += "abba\n";  // 1,500 bytes, then a 'z' at byte 1,502
  text += "abz\n";
  write_text(dir / "new.txt", text);
  PrepareOptions again{{dir / "new.txt"}, dir / "vocab/tokenizer.json", 0, "", dir / "out", 0};
  again.chunk_bytes = 1000;
  try {
    prepare_corpus(again);
    ADD_FAILURE() << "an unknown character was accepted";
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(e.what()),
              dir / "new.txt" + ": char tokenizer: character 'z' (U+007A) at byte offset 1502 "
                                "is not in the vocabulary");
  }
}

TEST(Prepare, BpeTrainsOnABoundedSample) {
  ScratchDir dir;
  // Past the first 60 KB the text is "zx zx ...": bytes the sample never sees. Trained on the
  // whole file, "zx" would be the first merge.
  std::string text = sample_corpus(60000, 4);
  for (int line = 0; line < 8000; line++) text += "zx zx zx zx zx zx zx zx zx zx\n";
  write_text(dir / "c.txt", text);
  PrepareOptions o{{dir / "c.txt"}, "bpe", 300, "", dir / "out", 0.1};
  o.bpe_sample_bytes = 50000;
  const PrepareResult r = prepare_corpus(o);
  EXPECT_EQ(r.vocab_size, 300);
  const Json tok = Json::parse(read_file(dir / "out/tokenizer.json"), "tokenizer.json");
  for (const Json& merge : tok.at("merges", "t").as_array("t"))
    for (const Json& id : merge.as_array("t"))
      EXPECT_TRUE(id.as_int("t") != 'z' && id.as_int("t") != 'x') << "a merge of a byte past the sample";
  const Json meta = Json::parse(read_file(dir / "out/meta.json"), "meta.json");
  EXPECT_EQ(meta.at("bpe_sample_bytes", "m").as_int("m"), 50000);
  EXPECT_EQ(TokenFile::open(dir / "out/train.bin").bytes_per_token(), 2);
  EXPECT_THROW(prepare_corpus({{dir / "c.txt"}, "bpe", 100, "", dir / "o2", 0.1}), std::invalid_argument);
}

// An empty file among the inputs is not the end of BPE's sample: the files after it count.
TEST(Prepare, AnEmptyFileDoesNotEndBpesSample) {
  ScratchDir dir;
  write_text(dir / "empty.txt", "");
  write_text(dir / "c.txt", sample_corpus(20000, 3));
  const PrepareResult alone = prepare_corpus({{dir / "c.txt"}, "bpe", 300, "", dir / "o1", 0.1});
  const PrepareResult after_empty = prepare_corpus({{dir / "empty.txt", dir / "c.txt"}, "bpe", 300, "", dir / "o2", 0.1});
  EXPECT_EQ(alone.vocab_size, 300);
  EXPECT_EQ(after_empty.vocab_size, 300);
  EXPECT_EQ(read_file(dir / "o1/tokenizer.json"), read_file(dir / "o2/tokenizer.json"));
}

// ---- the command line: one-line errors, non-zero exit


TEST(PrepareCli, GoodRunAndFriendlyErrors) {
  ScratchDir dir;
  const std::string d = dir.path() + "/";
  write_text(d + "ok.txt", sample_corpus(5000, 1));
  auto r = run(test::tapegpt() + " prepare --input " + sh(d + "ok.txt") + " --tokenizer char --out " + sh(d + "out"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("prepare: char vocab"), std::string::npos) << r.output;

  auto expect_error = [&](const std::string& args, const std::string& message) {
    const auto e = run(test::tapegpt() + " prepare " + args);
    EXPECT_EQ(e.status, 1) << args << "\n" << e.output;
    EXPECT_EQ(e.output, "tapegpt: error: " + message + "\n") << args;
  };
  expect_error("--input " + sh(d + "nope.txt") + " --tokenizer char --out " + sh(d + "o"),
               d + "nope.txt: cannot open (No such file or directory)");
  write_text(d + "empty.txt", "");
  expect_error("--input " + sh(d + "empty.txt") + " --tokenizer char --out " + sh(d + "o"),
               "empty corpus: " + d + "empty.txt contains no text");
  write_text(d + "latin1.txt", "caf\xE9\nna\xEFve\n");
  expect_error("--input " + sh(d + "ok.txt") + " " + sh(d + "latin1.txt") + " --tokenizer char --out " + sh(d + "o"),
               d + "latin1.txt: invalid UTF-8 byte 0xE9 at byte offset 3 (line 1); the char tokenizer needs UTF-8 text (use "
                   "bpe or gpt2 for bytes)");
  // An input that is one of the files --out gets would be replaced by it.
  std::filesystem::create_directories(d + "o4");
  write_text(d + "o4/train.bin", sample_corpus(2000, 2));
  expect_error("--input " + sh(d + "o4/train.bin") + " --tokenizer char --out " + sh(d + "o4"),
               "prepare: input " + d + "o4/train.bin is the train.bin that --out " + d +
                   "o4 gets: it would be replaced (write elsewhere)");
  // A pipe or device reports no size and cannot be read twice: named, not taken as empty.
  expect_error("--input " + sh(d + "ok.txt") + " /dev/null --tokenizer bpe --vocab_size 300 --out " + sh(d + "o"),
               "/dev/null: is not a regular file (a pipe or a device); save it to a file first");
  expect_error("--input " + sh(d + "ok.txt") + " --tokenizer bpe --vocab_size 100 --out " + sh(d + "o"),
               "prepare: --vocab_size must be at least 257 for the bpe tokenizer, got 100");
  expect_error("--input " + sh(d + "ok.txt") + " --tokenizer gpt2 --gpt2_dir " + sh(d) + " --out " + sh(d + "o"),
               d + "/encoder.json: cannot open (No such file or directory)");
  // Options of another tokenizer are refused, not ignored.
  expect_error("--input " + sh(d + "ok.txt") + " --tokenizer char --gpt2_dir " + sh(d) + " --out " + sh(d + "o"),
               "prepare: --gpt2_dir is for the gpt2 tokenizer, not char");
  expect_error("--input " + sh(d + "ok.txt") + " --tokenizer gpt2 --bpe_sample_mb 5 --out " + sh(d + "o"),
               "prepare: --bpe_sample_mb is for the bpe tokenizer, not gpt2");
  // Byte-level kinds take the same non-UTF-8 file without complaint.
  r = run(test::tapegpt() + " prepare --input " + sh(d + "latin1.txt") + " --tokenizer bpe --vocab_size 300 --val_fraction 0 --out " +
          sh(d + "o3"));
  EXPECT_EQ(r.status, 0) << r.output;
}

// A prepare that fails part-way (here the val file hits a file size limit, as on a full disk)
// leaves the previous dataset in out as it was: not a new train.bin beside the old tokenizer.
TEST(PrepareCli, AFailedPrepareLeavesThePreviousDatasetWhole) {
  ScratchDir dir;
  std::string small, big;
  for (int i = 0; i < 200; i++) small += "a small corpus, line " + std::to_string(i) + "\n";
  for (int i = 0; i < 8000; i++) big += "A Bigger Corpus With Other Letters: " + std::to_string(i) + "\n";
  test::write_text(dir / "small.txt", small);
  test::write_text(dir / "big.txt", big);
  const std::string out = dir / "ds";
  auto r = run(test::tapegpt() + " prepare --tokenizer char --input " + sh(dir / "small.txt") +
               " --out " + sh(out));
  ASSERT_EQ(r.status, 0) << r.output;
  const char* files[] = {"train.bin", "val.bin", "tokenizer.json", "meta.json"};
  std::vector<std::string> before;
  for (const char* f : files) before.push_back(read_file(out + "/" + f));
  // 10% of big.txt for train (fits under the limit), 90% for val (does not).
  r = run("trap '' XFSZ; ulimit -f 200; " + test::tapegpt() + " prepare --tokenizer char --input " +
          sh(dir / "big.txt") + " --val_fraction 0.9 --out " + sh(out));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("val.bin.tmp: write failed"), std::string::npos) << r.output;
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(read_file(out + "/" + files[i]), before[i]) << files[i];
  for (const auto& e : std::filesystem::directory_iterator(out))
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
}

// A prepare that fails after making its output directory (here: a file-size limit while writing
// val.bin) removes that directory again; a directory that was there before stays.
TEST(PrepareCli, AFailedPrepareRemovesTheDirectoryItMade) {
  ScratchDir dir;
  std::string big;
  for (int i = 0; i < 8000; i++) big += "A Bigger Corpus With Other Letters: " + std::to_string(i) + "\n";
  test::write_text(dir / "big.txt", big);
  const std::string out = dir / "new/ds";
  const std::string failing = "trap '' XFSZ; ulimit -f 200; " + test::tapegpt() +
                              " prepare --tokenizer char --val_fraction 0.9 --input " + sh(dir / "big.txt") +
                              " --out " + sh(out);
  auto r = run(failing);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("val.bin.tmp: write failed"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << r.output;
  EXPECT_TRUE(std::filesystem::is_directory(dir / "new"));  // a parent it made stays
  std::filesystem::create_directories(out);
  r = run(failing);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(std::filesystem::is_directory(out));
}

}  // namespace
}  // namespace tg

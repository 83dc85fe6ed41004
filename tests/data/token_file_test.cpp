// token_file_test.cpp — token files: round trips at both widths, and every bad file refused with
// a one-line error naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <random>

#include "data/token_file.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::ScratchDir;

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string open_error(const std::string& path) {
  try {
    TokenFile::open(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TokenFile, RoundTripTwoByteIds) {
  ScratchDir dir;
  const std::vector<int32_t> ids = {0, 1, 65535, 300, 7};
  write_token_file(dir / "a.bin", ids, 65536);
  const std::string raw = read_bytes(dir / "a.bin");
  ASSERT_EQ(raw.size(), 32u + 2 * ids.size());
  EXPECT_EQ(raw.substr(0, 8), "TGTOKENS");
  EXPECT_EQ(static_cast<unsigned char>(raw[32 + 4]), 0xFF);  // 65535 little-endian
  const TokenFile f = TokenFile::open(dir / "a.bin");
  EXPECT_EQ(f.size(), 5);
  EXPECT_EQ(f.vocab_size(), 65536);
  EXPECT_EQ(f.bytes_per_token(), 2);
  EXPECT_EQ(f.read_all(), ids);
  EXPECT_EQ(f.at(2), 65535);
}

TEST(TokenFile, RoundTripFourByteIdsAndManyTokens) {
  ScratchDir dir;
  std::mt19937_64 rng(1);
  std::vector<int32_t> ids(3'000'000);
  for (auto& x : ids) x = static_cast<int32_t>(rng() % 100000);
  {
    TokenFileWriter w(dir / "b.bin", 100000);
    // Appends in uneven pieces, crossing the writer's buffer size.
    for (size_t s = 0; s < ids.size(); s += 77777) w.append(ids.data() + s, std::min<size_t>(77777, ids.size() - s));
    w.finish();
  }
  const auto f = TokenFile::open_shared(dir / "b.bin");
  EXPECT_EQ(f->bytes_per_token(), 4);
  EXPECT_EQ(f->read_all(), ids);
  std::vector<int32_t> part(10);
  f->read(2'999'990, 10, part.data());
  EXPECT_EQ(part, std::vector<int32_t>(ids.end() - 10, ids.end()));
  EXPECT_THROW(f->read(2'999'995, 10, part.data()), std::out_of_range);
}

TEST(TokenFile, EmptyFileIsValid) {
  ScratchDir dir;
  write_token_file(dir / "e.bin", {}, 65);
  EXPECT_EQ(TokenFile::open(dir / "e.bin").size(), 0);
}

TEST(TokenFile, WriterRejectsIdsOutsideTheVocabAndLeavesNoFile) {
  ScratchDir dir;
  {
    TokenFileWriter w(dir / "c.bin", 10);
    EXPECT_THROW(w.append(std::vector<int32_t>{1, 10}), std::invalid_argument);
  }  // not finished: nothing under the final name, no temporary left behind
  EXPECT_NE(open_error(dir / "c.bin").find("c.bin: cannot open token file"), std::string::npos);
  EXPECT_EQ(test::run("ls " + dir.path()).output, "");
}

TEST(TokenFile, BadFilesAreRefusedNamingTheFile) {
  ScratchDir dir;
  write_token_file(dir / "good.bin", {1, 2, 3, 4}, 50257);
  const std::string good = read_bytes(dir / "good.bin");
  auto variant = [&](const std::string& name, std::string bytes) {
    test::write_text(dir / name, bytes);
    return open_error(dir / name);
  };
  const std::string d = dir.path() + "/";

  EXPECT_EQ(open_error(d + "missing.bin"), d + "missing.bin: cannot open token file (No such file or directory)");
  EXPECT_EQ(variant("text.bin", "hello world, this is a text file and not tokens"),
            d + "text.bin: not a tapegpt token file (wrong magic, expected \"TGTOKENS\")");
  EXPECT_EQ(variant("short.bin", "TGTOK"), d + "short.bin: not a tapegpt token file (only 5 bytes, the header alone is 32)");
  EXPECT_EQ(variant("trunc.bin", good.substr(0, good.size() - 1)),
            d + "trunc.bin: truncated: header says 4 tokens of 2 bytes but the file has 7 bytes of data");
  EXPECT_EQ(variant("long.bin", good + "xx"),
            d + "long.bin: size mismatch: header says 4 tokens of 2 bytes but the file has 10 bytes of data");
  std::string v2 = good;
  v2[8] = 2;
  EXPECT_EQ(variant("v2.bin", v2), d + "v2.bin: token file format version 2 is not supported (expected 1)");
  std::string w3 = good;
  w3[12] = 3;
  EXPECT_EQ(variant("w3.bin", w3), d + "w3.bin: bytes per token is 3, expected 2 or 4");
  std::string big = good;
  big[32 + 2 * 2] = static_cast<char>(0x51), big[32 + 2 * 2 + 1] = static_cast<char>(0xC4);  // id 50257
  EXPECT_EQ(variant("big.bin", big), d + "big.bin: token 2 has id 50257, not below the vocab size 50257");
  EXPECT_NO_THROW(TokenFile::open(d + "big.bin", /*validate_ids=*/false));
  EXPECT_EQ(open_error(dir.path()), dir.path() + ": not a regular file (a directory, a pipe or a device)");
  // A named pipe with no writer: refused at once (opening it waited for a writer forever).
  ASSERT_EQ(::mkfifo((d + "pipe.bin").c_str(), 0600), 0);
  EXPECT_EQ(open_error(d + "pipe.bin"), d + "pipe.bin: not a regular file (a directory, a pipe or a device)");
}

}  // namespace
}  // namespace tg

// dataset_test.cpp — the sliding-window arithmetic, batch order (sequential and seeded
// shuffle), and replaying the stream from a saved position.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/dataset.h"
#include "data/token_file.h"
#include "data_test_util.h"

namespace tg {
namespace {

std::vector<int32_t> iota(int n) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(SlidingWindow, ExampleCountIsExact) {
  // num_examples = floor((N - T - 1) / S) + 1: every window has T inputs and T targets in range.
  struct Case { int n, T, S, expected; };
  for (const Case c : {Case{10, 4, 1, 6}, Case{10, 4, 2, 3}, Case{10, 4, 3, 2}, Case{10, 4, 5, 2}, Case{10, 4, 6, 1},
                       Case{5, 4, 1, 1}, Case{5, 4, 7, 1}, Case{11, 5, 5, 2}, Case{12, 5, 5, 2}, Case{100, 1, 1, 99}}) {
    SlidingWindowDataset d(iota(c.n), 1000, c.T, c.S);
    EXPECT_EQ(d.num_examples(), c.expected) << "N=" << c.n << " T=" << c.T << " S=" << c.S;
    // The last example's last target is inside the sequence; one more window would not be.
    const int64_t last_target = (d.num_examples() - 1) * c.S + c.T;
    EXPECT_LT(last_target, c.n);
    EXPECT_GE(d.num_examples() * c.S + c.T, c.n);
  }
}

TEST(SlidingWindow, ContentsAreShiftedByOne) {
  SlidingWindowDataset d(iota(20), 1000, /*T=*/4, /*S=*/3);
  std::vector<int32_t> in(4), tg(4);
  d.example(0, in.data(), tg.data());
  EXPECT_EQ(in, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(tg, (std::vector<int32_t>{1, 2, 3, 4}));
  d.example(2, in.data(), tg.data());
  EXPECT_EQ(in, (std::vector<int32_t>{6, 7, 8, 9}));
  EXPECT_EQ(tg, (std::vector<int32_t>{7, 8, 9, 10}));
  d.example(d.num_examples() - 1, in.data(), tg.data());  // k = 5: tokens 15..19
  EXPECT_EQ(tg.back(), 19);
  EXPECT_THROW(d.example(d.num_examples(), in.data(), tg.data()), std::out_of_range);
}

TEST(SlidingWindow, TooShortCorpusIsAnErrorNamingTheSource) {
  test::ScratchDir dir;
  write_token_file(dir / "tiny.bin", {1, 2, 3}, 10);
  try {
    SlidingWindowDataset d(TokenFile::open_shared(dir / "tiny.bin"), 3);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir / "tiny.bin" + ": 3 tokens, too few for one example of block_size 3 (needs at least 4)");
  }
  EXPECT_NO_THROW(SlidingWindowDataset(TokenFile::open_shared(dir / "tiny.bin"), 2));
  EXPECT_THROW(SlidingWindowDataset(iota(10), 1000, 0), std::invalid_argument);
  EXPECT_THROW(SlidingWindowDataset(iota(10), 1000, 2, 0), std::invalid_argument);
  EXPECT_THROW(SlidingWindowDataset(iota(10), 5, 2), std::invalid_argument);  // id 9 >= vocab 5
}

TEST(SlidingWindow, ReadsThroughAMemoryMappedTokenFile) {
  test::ScratchDir dir;
  write_token_file(dir / "t.bin", iota(1000), 70000);  // 4-byte ids
  SlidingWindowDataset d(TokenFile::open_shared(dir / "t.bin"), 8, 8);
  EXPECT_EQ(d.num_examples(), 124);
  std::vector<int32_t> in(8), tg(8);
  d.example(123, in.data(), tg.data());
  EXPECT_EQ(in[0], 984);
  EXPECT_EQ(tg[7], 992);
}

TEST(BatchIterator, SequentialOrderWrapsIntoTheNextEpoch) {
  SlidingWindowDataset d(iota(12), 100, /*T=*/2, /*S=*/2);  // 5 examples: starts 0 2 4 6 8
  BatchIterator it(d, /*B=*/2, /*shuffle=*/false, 0);
  Batch b = it.next();
  EXPECT_EQ(b.B, 2);
  EXPECT_EQ(b.T, 2);
  EXPECT_EQ(b.inputs, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(b.targets, (std::vector<int32_t>{1, 2, 3, 4}));
  it.next();  // examples 2, 3
  b = it.next();  // example 4, then example 0 of epoch 1
  EXPECT_EQ(b.inputs, (std::vector<int32_t>{8, 9, 0, 1}));
  EXPECT_EQ(it.position().epoch, 1u);
  EXPECT_EQ(it.position().cursor, 1u);
}

std::vector<int64_t> served(const Dataset& d, int64_t B, bool shuffle, uint64_t seed, int batches) {
  BatchIterator it(d, B, shuffle, seed);
  std::vector<int64_t> starts;
  for (int i = 0; i < batches; ++i) {
    const Batch b = it.next();
    for (int64_t r = 0; r < B; ++r) starts.push_back(b.inputs[r * b.T]);
  }
  return starts;
}

TEST(BatchIterator, ShuffleIsSeededAndEachEpochIsAPermutation) {
  SlidingWindowDataset d(iota(1001), 2000, /*T=*/1, /*S=*/1);  // 1000 examples, example k starts at k
  const auto a = served(d, 10, true, 42, 200), b = served(d, 10, true, 42, 200), c = served(d, 10, true, 43, 200);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Epoch 0 and epoch 1 each visit all 1000 examples once, in different orders.
  std::vector<int64_t> e0(a.begin(), a.begin() + 1000), e1(a.begin() + 1000, a.end());
  EXPECT_NE(e0, e1);
  std::sort(e0.begin(), e0.end());
  std::sort(e1.begin(), e1.end());
  const std::vector<int32_t> all = iota(1000);
  EXPECT_EQ(e0, std::vector<int64_t>(all.begin(), all.end()));
  EXPECT_EQ(e1, e0);
  // Golden values: the order is pure 64-bit integer arithmetic, so it is the same on every
  // machine and compiler. A change here breaks the replay of saved runs.
  EXPECT_EQ(std::vector<int64_t>(a.begin(), a.begin() + 8), (std::vector<int64_t>{189, 853, 65, 486, 18, 309, 463, 834}));
}

TEST(RandomPermutation, IsABijectionForManySizes) {
  for (uint64_t n : {1ull, 2ull, 3ull, 5ull, 16ull, 17ull, 100ull, 1023ull, 4097ull}) {
    for (uint64_t seed : {0ull, 1ull, 99ull}) {
      const RandomPermutation p(n, seed);
      std::set<uint64_t> seen;
      for (uint64_t i = 0; i < n; ++i) seen.insert(p(i));
      EXPECT_EQ(seen.size(), n);
      EXPECT_EQ(*seen.rbegin(), n - 1);
    }
  }
  const RandomPermutation huge(uint64_t{1} << 40, 7);  // no memory in proportion to n
  EXPECT_LT(huge(123456789), uint64_t{1} << 40);
}

TEST(BatchIterator, SeekReplaysTheStreamExactly) {
  SlidingWindowDataset d(iota(503), 1000, /*T=*/3, /*S=*/2);  // 250 examples
  for (bool shuffle : {false, true}) {
    BatchIterator it(d, 7, shuffle, 1234);
    for (int i = 0; i < 45; ++i) it.next();  // 315 examples: into epoch 1
    const DataPosition saved = it.position();
    EXPECT_EQ(saved.epoch, 1u);
    EXPECT_EQ(saved.cursor, 65u);
    std::vector<Batch> expected;
    for (int i = 0; i < 40; ++i) expected.push_back(it.next());

    BatchIterator resumed(d, 7, shuffle, 1234);  // a fresh process after loading a checkpoint
    resumed.seek(saved);
    for (int i = 0; i < 40; ++i) {
      const Batch b = resumed.next();
      EXPECT_EQ(b.inputs, expected[i].inputs) << "shuffle=" << shuffle << " batch " << i;
      EXPECT_EQ(b.targets, expected[i].targets);
    }
    EXPECT_EQ(resumed.position().epoch, it.position().epoch);
    EXPECT_EQ(resumed.position().cursor, it.position().cursor);
  }
  BatchIterator it(d, 7, false, 0);
  EXPECT_THROW(it.seek({0, 251}), std::invalid_argument);
  EXPECT_NO_THROW(it.seek({3, 250}));  // the end of an epoch
  EXPECT_EQ(it.next().inputs[0], 0);   // wraps to example 0
  EXPECT_EQ(it.position().epoch, 4u);
}

}  // namespace
}  // namespace tg

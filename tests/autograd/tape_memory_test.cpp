// The tape's arena, the recycled tensor headers and inline shapes: what keeps a training step
// free of heap allocations must still run every record once, in reverse, and release what the
// records captured.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autograd/huge_page_allocator.h"
#include "autograd/ops.h"
#include "autograd/pool.h"
#include "autograd/recycling_allocator.h"
#include "autograd/tape.h"

namespace tg {
namespace {

// Closures of mixed sizes, some bigger than an arena chunk, run last-recorded first; each
// capture is released as soon as its record ran, and the arena is reused on the next pass.
TEST(TapeArena, RunsRecordsInReverseAndReleasesCaptures) {
  Tensor x = Tensor::from_vector({1}, {1.0f}, true);
  Tensor loss = sum(x);  // one record that seeds nothing else
  for (int pass = 0; pass < 3; pass++) {
    std::vector<int> order;
    auto tracked = std::make_shared<int>(7);
    std::weak_ptr<int> watch = tracked;
    Tensor out = sum(scale(x, 2.0f));
    for (int i = 0; i < 50; i++) {
      std::array<char, 1000> ballast{};  // captured for its size: 50 KB of closures span chunks
      tape().record([&order, i, ballast, tracked]() { order.push_back(i); });
    }
    tracked.reset();
    std::array<char, 100000> huge{};  // one closure bigger than a whole chunk
    tape().record([&order, huge]() { order.push_back(1000 + huge[5]); });
    EXPECT_FALSE(watch.expired());  // the records hold it
    tape().backward(out);
    ASSERT_EQ(order.size(), 51u);
    EXPECT_EQ(order.front(), 1000);
    for (int i = 0; i < 50; i++) EXPECT_EQ(order[1 + i], 49 - i);
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(tape().size(), 0u);
  }
  tape().clear();
}

TEST(TapeArena, ThrowingRecordClearsTheRestAndReleasesThem) {
  Tensor x = Tensor::from_vector({1}, {1.0f}, true);
  auto tracked = std::make_shared<int>(1);
  std::weak_ptr<int> watch = tracked;
  Tensor out = sum(scale(x, 3.0f));
  tape().record([tracked]() {});
  tracked.reset();
  tape().record([]() { throw std::runtime_error("boom"); });
  EXPECT_THROW(tape().backward(out), std::runtime_error);
  EXPECT_EQ(tape().size(), 0u);
  EXPECT_TRUE(watch.expired());
  // The tape works again afterwards.
  Tensor again = sum(scale(x, 3.0f));
  tape().backward(again);
  EXPECT_FLOAT_EQ(x.grad()[0], 3.0f);
}

TEST(Shape, InlineDimensions) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.back(), 4);
  EXPECT_EQ(shape_numel(s), 24);
  std::vector<long long> dims{2, 3, 4};
  EXPECT_EQ(Shape(dims.begin(), dims.end()), s);
  EXPECT_NE((Shape{2, 3}), s);
  Shape eight{1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_THROW(eight.push_back(1), std::invalid_argument);
  EXPECT_EQ(shape_str(s), "[2, 3, 4]");
}

// Tensor headers go back to a free list and come out again: same address, no new block.
TEST(RecyclingAllocator, ReusesFreedBlocks) {
  RecyclingAllocator<std::array<char, 40>> alloc;
  auto* a = alloc.allocate(1);
  alloc.deallocate(a, 1);
  auto* b = alloc.allocate(1);
  EXPECT_EQ(a, b);
  alloc.deallocate(b, 1);
}

TEST(Pool, IntBuffersShareTheFloatPool) {
  int32_t* first = nullptr;
  {
    auto ints = pool_alloc_ints(12345);
    ints.get()[12344] = -7;
    first = ints.get();
  }
  const auto before = pool_stats().fresh_allocations;
  auto again = pool_alloc_ints(12345);  // the same size comes back from the free list
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(pool_stats().fresh_allocations, before);
}

// A buffer of 4 MB or more starts on a 2 MB boundary (where a huge page can back it), is
// writable to its last float, and comes back from the free list like any other.
TEST(Pool, LargeBuffersStartOnA2MBBoundary) {
  const size_t n = (size_t{4} << 20) / sizeof(float) + 3;  // just over 4 MB
  float* first = nullptr;
  {
    auto big = pool_alloc(n);
    first = big.get();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % (size_t{2} << 20), 0u);
    big.get()[0] = 1.0f;
    big.get()[n - 1] = 2.0f;
    EXPECT_EQ(big.get()[n - 1], 2.0f);
  }
  auto again = pool_alloc(n);
  EXPECT_EQ(again.get(), first);
  auto small = pool_alloc(1000);  // small buffers keep the cache-line alignment only
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.get()) % 64, 0u);
}

// Big arrays kept outside the pool (AdamW's moments) take the same memory: 4 MB or more on a
// 2 MB boundary, smaller ones on a cache line; values as any vector's.
TEST(Pool, HugePageAllocatorGivesThePoolsAlignment) {
  std::vector<float, HugePageAllocator<float>> big((size_t{4} << 20) / sizeof(float) + 1, 0.5f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % (size_t{2} << 20), 0u);
  EXPECT_EQ(big.back(), 0.5f);
  std::vector<float, HugePageAllocator<float>> small(1000, 1.5f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % 64, 0u);
  small.resize(3000, 2.5f);  // reallocates through the allocator, keeps what it held
  EXPECT_EQ(small[999], 1.5f);
  EXPECT_EQ(small[2999], 2.5f);
}

}  // namespace
}  // namespace tg

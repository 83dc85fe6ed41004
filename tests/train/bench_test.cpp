// tapegpt bench's own claims, checked: a steady-state training step allocates nothing.
#include <gtest/gtest.h>

#include <string>

#include "autograd/gemm.h"
#include "run_command.h"

namespace tg {
namespace {

// The tape's arena, recycled tensor headers, pooled buffers and the GEMM's kept packing
// buffers leave nothing for malloc to do once the first steps have run. The bench counts every
// malloc and new in the process (every library's) over the measured steps. With one thread
// too: libgomp allocates a team for every parallel region, even a one-thread one, so the ops
// must not open regions for serial work. The per-op profile (--profile) allocates nothing
// either, so that its count is the step's.
TEST(Bench, TrainingStepMakesNoHeapAllocation) {
  if (std::string(gemm_engine()).rfind("tapegpt", 0) != 0)
    GTEST_SKIP() << gemm_engine() << " allocates inside its own products";
  struct Run {
    const char *env, *flags;
  };
  const char* configs_step = " --gradient_accumulation_steps 2 --dropout 0.1 --grad_clip 1";
  for (const Run& run : {Run{"", ""}, Run{"OMP_NUM_THREADS=1 ", ""},
                         Run{"OMP_NUM_THREADS=1 ", " --profile"}, Run{"", configs_step}}) {
    const std::string label = std::string(run.env) + run.flags;  // for the messages
    const auto r = tg::testing::run_command(
        std::string(run.env) + TAPEGPT_BINARY +
        " bench --json --steps 6 --warmup 2 --n_layer 2 --n_head 2 --n_embd 64 --block_size 64"
        " --batch_size 4 --vocab_size 300" + run.flags);
    ASSERT_EQ(r.status, 0) << r.output;
    const double per_step = tg::testing::json_number(r.output, "heap_allocations_per_step");
    if (per_step < 0) GTEST_SKIP() << "this build does not count allocations";
    EXPECT_EQ(per_step, 0.0) << label << r.output;
    EXPECT_EQ(tg::testing::json_number(r.output, "fresh_buffers_steady"), 0.0)
        << label << r.output;
    // --json keeps --profile's table: each op's ms per step.
    if (std::string(run.flags) == " --profile")
      EXPECT_GT(tg::testing::json_number(r.output, "linear.forward"), 0.0) << r.output;
    // A training config's step is timed as it says: two micro-batches of 4 × 64 tokens, with
    // dropout and clipping (the protocol's step has none of them).
    if (std::string(run.flags) == configs_step) {
      EXPECT_EQ(tg::testing::json_number(r.output, "gradient_accumulation_steps"), 2.0) << r.output;
      EXPECT_FLOAT_EQ(tg::testing::json_number(r.output, "dropout"), 0.1f) << r.output;
      EXPECT_EQ(tg::testing::json_number(r.output, "grad_clip"), 1.0) << r.output;
      const double ms = tg::testing::json_number(r.output, "step_ms_median");
      // (both figures printed to 6 significant digits)
      const double tokens_per_s = 2 * 4 * 64 / (ms * 1e-3);
      EXPECT_NEAR(tg::testing::json_number(r.output, "tokens_per_s"), tokens_per_s, 1e-5 * tokens_per_s)
          << r.output;
    }
  }
}

}  // namespace
}  // namespace tg

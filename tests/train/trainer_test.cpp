// The trainer end to end, through the `tapegpt` binary on real text: loss goes down, resume is
// bit-exact (also after SIGKILL), bad checkpoints and configs are refused with one-line errors.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>

#include "data/token_file.h"
#include "tests/scratch_dir.h"
#include "tests/train/run_command.h"
#include "train/checkpoint.h"
#include "train/out_dir.h"

namespace tg {
namespace {
namespace fs = std::filesystem;

const std::string kBinary = TAPEGPT_BINARY;

using Outcome = testing::CommandOutcome;

// `tapegpt ARGS`, through the shell (ARGS may quote).
Outcome run(const std::string& args) { return testing::run_command(kBinary + " " + args); }

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new test::ScratchDir("tapegpt_trainer");
    dir_ = scratch_->path();
    // Real text: two of Debian's fortunes files (~300 KB).
    Outcome r = run("prepare --input /usr/share/games/fortunes/computers /usr/share/games/fortunes/science"
                " --tokenizer char --out " + dir_ + "/data");
    ASSERT_EQ(r.status, 0) << r.output;
    std::ofstream(dir_ + "/tiny.toml") << "dataset = \"" << dir_ << "/data\"\n"
        "n_layer = 2\nn_head = 2\nn_embd = 32\nblock_size = 32\ndropout = 0.1\n"
        "batch_size = 4\nlearning_rate = 3e-3\nmin_lr = 3e-4\nwarmup_iters = 5\n"
        "lr_decay_iters = 40\neval_interval = 10\neval_iters = 4\nlog_interval = 1\n"
        "seed = 7\n";
  }
  static std::string config() { return "--config " + dir_ + "/tiny.toml "; }
  static std::vector<std::string> losses(const std::string& out_dir) {
    std::ifstream in(out_dir + "/metrics.jsonl");
    std::vector<std::string> found;
    for (std::string line; std::getline(in, line);) {
      auto at = line.find("\"loss\": ");
      if (at != std::string::npos) found.push_back(line.substr(at, line.find(',', at) - at));
    }
    return found;
  }
  static bool same_weights(const std::string& a, const std::string& b) {
    auto ma = load_model(a), mb = load_model(b);
    return ma->flat_size() == mb->flat_size() &&
           std::memcmp(ma->flat_values(), mb->flat_values(), sizeof(float) * ma->flat_size()) == 0;
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  static test::ScratchDir* scratch_;  // the suite's files, removed after its last test
  static std::string dir_;
};
test::ScratchDir* TrainerTest::scratch_ = nullptr;
std::string TrainerTest::dir_;

TEST_F(TrainerTest, LossGoesDownOnRealText) {
  Outcome r = run("train " + config() + "--max_iters 40 --out_dir " + dir_ + "/straight");
  ASSERT_EQ(r.status, 0) << r.output;
  std::vector<std::string> l = losses(dir_ + "/straight");
  ASSERT_EQ(l.size(), 40u);
  const double first = std::stod(l.front().substr(8)), last = std::stod(l.back().substr(8));
  EXPECT_GT(first, 4.0);  // ~ln(V) at init
  EXPECT_LT(last, first - 1.0) << "first " << first << " last " << last;
  EXPECT_TRUE(fs::exists(dir_ + "/straight/best.h5"));
  EXPECT_TRUE(fs::exists(dir_ + "/straight/config.toml"));
  std::stringstream toml;
  toml << std::ifstream(dir_ + "/straight/config.toml").rdbuf();
  for (const char* line : {"\nshuffle=true\n", "\npack_pairs=false\n", "\nbias=true\n", "\nseed=7\n"})
    EXPECT_NE(toml.str().find(line), std::string::npos) << line << " in\n" << toml.str();  // TOML booleans
  EXPECT_TRUE(fs::exists(dir_ + "/straight/ckpt_000040.h5"));
  EXPECT_FALSE(fs::exists(dir_ + "/straight/ckpt_000010.h5"));  // keep_last = 2
  // best.h5 records the lowest validation loss of the evaluations after step 0.
  std::ifstream metrics(dir_ + "/straight/metrics.jsonl");
  double lowest = 1e30;
  int evaluations = 0;
  for (std::string line; std::getline(metrics, line);) {
    const size_t at = line.find("\"val_loss\": ");
    if (at == std::string::npos || line.rfind("{\"step\": 0,", 0) == 0) continue;
    lowest = std::min(lowest, std::stod(line.substr(at + 12)));
    evaluations++;
  }
  EXPECT_EQ(evaluations, 4);  // steps 10, 20, 30, 40
  EXPECT_NEAR(read_checkpoint(dir_ + "/straight/best.h5").state.best_val_loss, lowest, 1e-6 * lowest);
}

// The model learns from context, not just how often each character comes: on held-out text
// it beats the best a previous-character (bigram) model fitted to the training text can do.
// (40 steps reach only the unigram's loss; a model with its blocks frozen stays above this.)
TEST_F(TrainerTest, BeatsABigramModelOnHeldOutText) {
  Outcome r = run("train " + config() + "--max_iters 1000 --batch_size 16 --learning_rate 1e-2"
                  " --min_lr 1e-3 --warmup_iters 20 --lr_decay_iters 0 --dropout 0"
                  " --eval_interval 1000 --eval_iters 0 --log_interval 1000 --out_dir " + dir_ + "/bigram");
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream metrics(dir_ + "/bigram/metrics.jsonl");
  double val_loss = 0;
  const std::string at_the_end = "{\"step\": 1000, \"val_loss\": ";
  for (std::string line; std::getline(metrics, line);)
    if (line.rfind(at_the_end, 0) == 0) val_loss = std::stod(line.substr(at_the_end.size()));
  // The bigram's cross-entropy on val.bin, with add-one smoothing, counts from train.bin.
  const TokenFile train = TokenFile::open(dir_ + "/data/train.bin"), val = TokenFile::open(dir_ + "/data/val.bin");
  const int64_t V = train.vocab_size();
  std::vector<double> pair(V * V, 1.0), first(V, static_cast<double>(V));
  const std::vector<int32_t> t = train.read_all(), v = val.read_all();
  for (size_t i = 0; i + 1 < t.size(); i++) {
    pair[t[i] * V + t[i + 1]] += 1;
    first[t[i]] += 1;
  }
  double bigram = 0;
  for (size_t i = 0; i + 1 < v.size(); i++) bigram -= std::log(pair[v[i] * V + v[i + 1]] / first[v[i]]);
  bigram /= static_cast<double>(v.size() - 1);
  std::printf("held-out loss: model %.3f, bigram %.3f\n", val_loss, bigram);
  EXPECT_GT(val_loss, 0.0) << "no step-1000 val_loss in metrics.jsonl";
  EXPECT_LT(val_loss, bigram - 0.05);
}

// `prepare --val_fraction 0` (what prepare suggests for a corpus with no line break) writes an
// empty val.bin: training runs without a validation loss, and best.h5 is the latest checkpoint.
TEST_F(TrainerTest, TrainsWithoutAValidationSet) {
  Outcome r = run("prepare --input /usr/share/games/fortunes/science --tokenizer char"
                  " --val_fraction 0 --out " + dir_ + "/noval");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train " + config() + "--dataset " + dir_ + "/noval --max_iters 20 --out_dir " + dir_ +
          "/noval_run");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(losses(dir_ + "/noval_run").size(), 20u);
  std::ifstream metrics(dir_ + "/noval_run/metrics.jsonl");
  const std::string all((std::istreambuf_iterator<char>(metrics)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("val_loss"), std::string::npos) << all;
  EXPECT_TRUE(same_weights(dir_ + "/noval_run/ckpt_000020.h5", dir_ + "/noval_run/best.h5"));
}

// Without a validation loss to catch it, a step that blew the weights up was saved as
// ckpt_000001.h5 and best.h5 with exit status 0 (the next step's loss check came too late).
TEST_F(TrainerTest, ADivergedStepIsNotSavedWithoutAValidationSet) {
  Outcome r = run("prepare --input /usr/share/games/fortunes/science --tokenizer char"
                  " --val_fraction 0 --out " + dir_ + "/noval_nan");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string out = dir_ + "/blown";
  r = run("train " + config() + "--dataset " + dir_ + "/noval_nan --max_iters 1 --warmup_iters 0"
          " --decay_lr false --grad_clip 0 --learning_rate 1e38 --out_dir " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("weights hold NaN or Inf after step 1: training diverged (lower "
                          "learning_rate?); this run wrote no checkpoint"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/ckpt_000001.h5"));
  EXPECT_FALSE(fs::exists(out + "/best.h5"));
}

// A quoted config value is taken whole, '#' included (CLI11 2.1 alone cut it at the '#').
TEST_F(TrainerTest, AQuotedConfigValueMayHoldAHash) {
  std::ifstream tiny(dir_ + "/tiny.toml");
  std::ofstream(dir_ + "/hash.toml")
      << tiny.rdbuf() << "out_dir = \"" << dir_ << "/run #2\"  # a comment\nmax_iters = 2\n";
  Outcome r = run("train --config " + dir_ + "/hash.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir_ + "/run #2/best.h5")) << r.output;
  // An escaped quote does not close the value; a value left open, or followed by more than a
  // comment, is an error naming the key.
  std::ifstream again(dir_ + "/tiny.toml");
  std::ofstream(dir_ + "/escaped.toml")
      << again.rdbuf() << "out_dir = \"" << dir_ << "/run \\\"#3\"\nmax_iters = 2\n";
  r = run("train --config " + dir_ + "/escaped.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir_ + "/run \"#3/best.h5")) << r.output;  // (\" decoded, as TOML says)
  for (const std::string& bad : {std::string("out_dir = \"runs/#4\n"), std::string("out_dir = \"a\"b\n")}) {
    std::ofstream(dir_ + "/bad.toml") << bad;
    r = run("train --config " + dir_ + "/bad.toml");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("bad.toml: 'out_dir': "), std::string::npos) << r.output;
  }
}

TEST_F(TrainerTest, ResumeIsBitExact) {
  Outcome r = run("train " + config() + "--max_iters 40 --out_dir " + dir_ + "/a");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train " + config() + "--max_iters 20 --out_dir " + dir_ + "/b");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train " + config() + "--max_iters 40 --resume --out_dir " + dir_ + "/b");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resuming from"), std::string::npos) << r.output;
  EXPECT_EQ(losses(dir_ + "/a"), losses(dir_ + "/b"));
  EXPECT_TRUE(same_weights(dir_ + "/a/ckpt_000040.h5", dir_ + "/b/ckpt_000040.h5"));
  // The resumed run's clock goes on from the checkpoint's (it started again from 0).
  std::ifstream metrics(dir_ + "/b/metrics.jsonl");
  double last = 0.0;
  int timed = 0;
  for (std::string line; std::getline(metrics, line);) {
    if (line.find("\"elapsed_s\"") == std::string::npos) continue;
    const double elapsed = testing::json_number(line, "elapsed_s");
    EXPECT_GE(elapsed, last) << line;
    last = elapsed, timed++;
  }
  EXPECT_EQ(timed, 40);
  EXPECT_NEAR(read_checkpoint(dir_ + "/b/ckpt_000040.h5").state.elapsed_s, last, 1e-6 * last);  // (7 digits)
}

// `--resume` with only out_dir and a new max_iters continues the run as it was configured (the
// config its checkpoint recorded), not with the defaults: the same losses as one straight run.
// (A true/false typed as `on` and a hex float are recorded as TOML's true and a decimal: CLI11
// wrote them quoted, as typed, and the resume then refused its own run's config.)
TEST_F(TrainerTest, ResumeTakesWhatItIsNotToldFromTheRun) {
  const std::string settings = "--batch_size 6 --learning_rate 0x1p-9 --decay_lr on --lr_decay_iters 40 ";
  Outcome r = run("train " + config() + settings + "--max_iters 40 --out_dir " + dir_ + "/ra");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train " + config() + settings + "--max_iters 20 --out_dir " + dir_ + "/rb");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train --out_dir " + dir_ + "/rb --resume --max_iters 40");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(losses(dir_ + "/ra"), losses(dir_ + "/rb"));
  std::stringstream toml;
  toml << std::ifstream(dir_ + "/rb/config.toml").rdbuf();
  for (const char* line : {"\nbatch_size=6\n", "\nlearning_rate=0.001953125\n", "\ndecay_lr=true\n",
                           "\nmax_iters=40\n", "\nseed=7\n"})
    EXPECT_NE(toml.str().find(line), std::string::npos) << line << " in\n" << toml.str();
}

TEST_F(TrainerTest, ResumesAfterSigkillBetweenCheckpoints) {
  // 200 steps: on a fast machine a step takes ~2 ms, and with 40 the killed run had sometimes
  // finished them all before the kill landed, which left nothing to resume.
  const std::string schedule = "--max_iters 200 --lr_decay_iters 200 ";
  Outcome r = run("train " + config() + schedule + "--out_dir " + dir_ + "/ref");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string out = dir_ + "/killed";
  fs::create_directories(out);
  pid_t child = fork();
  if (child == 0) {
    std::string cfg = dir_ + "/tiny.toml";
    execl(kBinary.c_str(), kBinary.c_str(), "train", "--config", cfg.c_str(), "--max_iters",
          "4000", "--lr_decay_iters", "200", "--eval_interval", "5", "--out_dir", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it somewhere after step 23 (a checkpoint exists at 20; the steps after the last
  // checkpoint are lost).
  for (int i = 0; i < 6000 && losses(out).size() < 23; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_GE(losses(out).size(), 23u);
  ASSERT_LT(losses(out).size(), 200u) << "the run was not killed before its last step";
  // max_iters differs from the killed run's, but only lr_decay_iters shapes the schedule.
  r = run("train " + config() + schedule + "--resume --eval_interval 5 --out_dir " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resuming from " + out + "/ckpt_0000"), std::string::npos) << r.output;
  EXPECT_EQ(losses(out), losses(dir_ + "/ref"));
  EXPECT_TRUE(same_weights(dir_ + "/ref/ckpt_000200.h5", out + "/ckpt_000200.h5"));
}

// --resume skips a checkpoint it cannot read (here ckpt_20, cut short) and goes on from the one
// before; pruning must not count the skipped file as the newest and delete the resumed run's
// own checkpoint for it.
TEST_F(TrainerTest, ResumingPastAnUnreadableCheckpointKeepsTheRunsOwn) {
  const std::string out = dir_ + "/cut";
  ASSERT_EQ(run("train " + config() + "--max_iters 20 --out_dir " + out).status, 0);
  fs::resize_file(out + "/ckpt_000020.h5", 3000);
  Outcome r = run("train " + config() + "--max_iters 15 --eval_interval 5 --keep_last 1 --resume "
                  "--out_dir " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("skipping unreadable checkpoint"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/ckpt_000015.h5"));
  EXPECT_FALSE(fs::exists(out + "/ckpt_000010.h5"));  // keep_last = 1
  r = run("train " + config() + "--max_iters 20 --resume --out_dir " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resuming from " + out + "/ckpt_000015.h5"), std::string::npos) << r.output;
  EXPECT_NO_THROW(read_checkpoint(out + "/ckpt_000020.h5"));  // replaced by a whole one
}

// A run stopped after a step's checkpoint but before its best.h5 (here a directory stands in
// the way of best.h5's temporary file) left a checkpoint counting a best validation loss that
// best.h5 does not hold. The resumed run goes by what best.h5 holds (nothing: infinity), so its
// next evaluation writes best.h5, even one no better than the lost (learning rate 0 here).
TEST_F(TrainerTest, ResumeWritesTheBestH5AStoppedRunDidNot) {
  const std::string out = dir_ + "/nobest";
  fs::create_directories(out + "/best.h5.tmp/blocker");
  Outcome r = run("train " + config() + "--max_iters 10 --eval_interval 5 --out_dir " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("best.h5"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(out + "/ckpt_000005.h5"));
  fs::remove_all(out + "/best.h5.tmp");
  r = run("train " + config() + "--max_iters 10 --eval_interval 5 --learning_rate 0 --min_lr 0 "
          "--resume --out_dir " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::exists(out + "/best.h5")) << r.output;
  EXPECT_EQ(read_checkpoint(out + "/best.h5").state.best_val_loss,
            read_checkpoint(out + "/ckpt_000010.h5").state.best_val_loss);
  EXPECT_EQ(read_checkpoint(out + "/best.h5").state.iteration, 10);
}

TEST_F(TrainerTest, RefusesBadCheckpointsAndConfigs) {
  std::ofstream(dir_ + "/junk.h5") << "not hdf5";
  Outcome r = run("sample --checkpoint " + dir_ + "/junk.h5 --prompt hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not an HDF5 file"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;

  std::ofstream(dir_ + "/typo.toml") << "n_layers = 3\n";
  r = run("train --config " + dir_ + "/typo.toml --dataset " + dir_ + "/data");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown key 'n_layers'"), std::string::npos) << r.output;
  // TOML types a quoted value as text: not silently a number or a boolean. A key set twice
  // is named as such, and so is a key without a value (CLI11 alone reads it as 0 or false).
  const std::pair<const char*, const char*> refused[] = {
      {"n_head = \"2\"", "'n_head' takes a number"},
      {"\"n_head\" = '2'", "'n_head' takes a number"},
      {"bias = 'true'", "'bias' takes true or false"},
      {"dropout = \"0.1\"", "'dropout' takes a number"},
      {"n_layer = 2\nn_layer = 3", "'n_layer' is set 2 times"},
      {"seed = 1\n[eval]\nseed = 2", "unknown key 'eval.seed'"},
      {"learning_rate =", "'learning_rate' has no value"},
      {"grad_clip =   # off?", "'grad_clip' has no value"},
      {"learning_rate", "'learning_rate' has no value"},
      // A value that makes no sense names the file it came from.
      {"n_head = 0", "n_head must be positive, got 0"},
      {"learning_rate = -1", "learning_rate must be in [0, inf)"},
      // CLI11's [default] section is the top level: its keys get the same checks.
      {"[default]\nwarmup_iters = \"3\"", "'warmup_iters' takes a number"},
      {"[DEFAULT]\nwarmup_iters = \"3\"", "'warmup_iters' takes a number"},
      {"warmup_iters = 3\n[default]\nwarmup_iters = 4", "'warmup_iters' is set 2 times"},
      // Typed as true or false, not a number's prefix.
      {"bias = 7x", "bad value for 'bias': --bias: true or false, got '7x'"},
      {"resume = 7x", "bad value for 'resume': --resume: true or false, got '7x'"},
      // TOML's digit grouping is read (1_6 is 16); an underscore not between digits is not.
      {"n_embd = 1_6\nn_head = 3", "n_embd=16 is not divisible by n_head=3"},
      {"n_head = 1__6", "bad value for 'n_head': --n_head: a whole number"},
      {"dropout = 0._1", "bad value for 'dropout'"},
      // A control byte in a key is shown, not sent to the terminal.
      {"ma\x1bx = 3", "unknown key 'ma\\x1Bx'"}};
  for (const auto& [lines, says] : refused) {
    std::ofstream(dir_ + "/typed.toml") << lines << "\n";
    r = run("train --config " + dir_ + "/typed.toml --dataset " + dir_ + "/data");
    EXPECT_EQ(r.status, 1) << lines;
    EXPECT_NE(r.output.find(std::string("typed.toml: ") + says), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  // An editor's byte-order mark before the first key is not part of its name.
  std::ofstream(dir_ + "/bom.toml") << "\xEF\xBB\xBFmax_iters = 0\n";
  r = run("train --config " + dir_ + "/bom.toml --dataset " + dir_ + "/data");
  EXPECT_NE(r.output.find("max_iters must be at least 1, got 0"), std::string::npos) << r.output;
  // A text option with a list of allowed values takes its value quoted, as TOML wants.
  std::ofstream(dir_ + "/mode.toml") << "mode = \"attention\"\n";
  r = run("bench --config " + dir_ + "/mode.toml --steps 1 --warmup 0 --json");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"mode\": \"attention\""), std::string::npos) << r.output;

  ASSERT_EQ(run("train " + config() + "--max_iters 10 --out_dir " + dir_ + "/shape").status, 0);
  r = run("train " + config() + "--max_iters 20 --n_embd 64 --resume --out_dir " + dir_ + "/shape");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("n_embd (checkpoint: 32, asked: 64)"), std::string::npos) << r.output;
  r = run("train " + config() + "--max_iters 5 --resume --out_dir " + dir_ + "/shape");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is at step 10 and max_iters is 5: nothing left to train"), std::string::npos)
      << r.output;
  r = run("train " + config() + "--max_iters 20 --bogus 1 --out_dir " + dir_ + "/shape");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: The following arguments were not expected: 1 --bogus "
                      "(see tapegpt train --help)\n");
  // A misspelt option is named even when it leaves a required one missing.
  r = run("prepare --inptu x.txt --out " + dir_ + "/typo");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: The following arguments were not expected: x.txt --inptu "
                      "(see tapegpt prepare --help)\n");
  r = run("prepare --out " + dir_ + "/typo");  // nothing unknown: the missing option is named
  EXPECT_EQ(r.output, "tapegpt: error: --input is required (see tapegpt prepare --help)\n");
  r = run("bogus");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "tapegpt: error: unknown command 'bogus' (see tapegpt --help)\n");
  // A check of two values names where each came from.
  std::ofstream(dir_ + "/width.toml") << "n_embd = 16\n";
  r = run("train --config " + dir_ + "/width.toml --n_head 3 --dataset " + dir_ + "/data");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("width.toml and the command line: n_embd=16 is not divisible by n_head=3"),
            std::string::npos) << r.output;
  r = run("train " + config() + "--max_iters 20 --attention dense,local --resume --out_dir " +
          dir_ + "/shape");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("attention (checkpoint: dense, asked: dense,local)"), std::string::npos)
      << r.output;

  // Token ids only mean something with their tokenizer: data prepared with another one is
  // refused, whether it comes with a checkpoint's tokenizer (resume) or with its own.
  std::ofstream(dir_ + "/other.txt") << std::string(4000, 'x') + "yz\n" + std::string(4000, 'z');
  ASSERT_EQ(run("prepare --input " + dir_ + "/other.txt --tokenizer char --out " + dir_ + "/other").status, 0);
  r = run("train " + config() + "--max_iters 20 --resume --dataset " + dir_ + "/other --out_dir " +
          dir_ + "/shape");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("other/tokenizer.json: not the tokenizer"), std::string::npos) << r.output;
  fs::create_directories(dir_ + "/mixed");
  for (const char* f : {"train.bin", "val.bin"})
    fs::copy_file(dir_ + "/other/" + f, dir_ + "/mixed/" + f, fs::copy_options::overwrite_existing);
  fs::copy_file(dir_ + "/data/tokenizer.json", dir_ + "/mixed/tokenizer.json",
                fs::copy_options::overwrite_existing);
  r = run("train " + config() + "--max_iters 2 --dataset " + dir_ + "/mixed --out_dir " + dir_ + "/mixed_out");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("prepared with another tokenizer"), std::string::npos) << r.output;
  r = run("eval --checkpoint " + dir_ + "/shape/best.h5 --data " + dir_ + "/other/val.bin");
  EXPECT_EQ(r.status, 1);  // scored as other text, its loss would mean nothing
  EXPECT_NE(r.output.find("other/tokenizer.json: not the tokenizer"), std::string::npos) << r.output;
  // The way the refusal points to: the new text prepared with the checkpoint's own tokenizer.
  r = run("prepare --input " + dir_ + "/other.txt --tokenizer " + dir_ + "/shape/best.h5 --out " +
          dir_ + "/other_ids");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train " + config() + "--max_iters 12 --resume --dataset " + dir_ + "/other_ids --out_dir " +
          dir_ + "/shape");
  EXPECT_EQ(r.status, 0) << r.output;
  // bench takes its vocabulary from a --dataset too (106 characters here), as train does.
  r = run("bench --json --steps 1 --warmup 0 --n_layer 1 --dataset " + dir_ + "/data");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(testing::json_number(r.output, "vocab_size"), 106) << r.output;
  // A fine-tuning config's model is its init checkpoint's (bench timed the defaults' shape), a
  // shape option that contradicts it is refused, and so is freezing, which bench does not time.
  r = run("bench --json --steps 1 --warmup 0 --init " + dir_ + "/shape/best.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(testing::json_number(r.output, "n_layer"), 2) << r.output;
  EXPECT_EQ(testing::json_number(r.output, "n_embd"), 32) << r.output;
  EXPECT_EQ(testing::json_number(r.output, "vocab_size"), 106) << r.output;
  r = run("bench --steps 1 --warmup 0 --n_layer 3 --init " + dir_ + "/shape/best.h5");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("n_layer=3: the init checkpoint " + dir_ + "/shape/best.h5 has 2"),
            std::string::npos) << r.output;
  r = run("bench --steps 1 --warmup 0 --freeze_layers 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bench times full training steps"), std::string::npos) << r.output;
  // The attention pattern is compared as the model reads it: spaces do not make another one.
  r = run("train " + config() + "--max_iters 13 --attention ' dense ' --resume --dataset " + dir_ +
          "/other_ids --out_dir " + dir_ + "/shape");
  EXPECT_EQ(r.status, 0) << r.output;
  // A resumed run continues its random streams: another seed is refused, not ignored.
  r = run("train " + config() + "--max_iters 14 --seed 99 --resume --dataset " + dir_ +
          "/other_ids --out_dir " + dir_ + "/shape");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("seed=99: the run in " + dir_ + "/shape started with seed 7"),
            std::string::npos) << r.output;
  // eval: a token file alone (no tokenizer.json beside it) from another tokenizer is refused by
  // its vocabulary size; one not named .bin is still read as a token file, not as text.
  fs::create_directories(dir_ + "/lone");
  fs::copy_file(dir_ + "/other/val.bin", dir_ + "/lone/val.bin", fs::copy_options::overwrite_existing);
  r = run("eval --checkpoint " + dir_ + "/shape/best.h5 --data " + dir_ + "/lone/val.bin");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("lone/val.bin: vocab size 4, but the checkpoint's tokenizer has 106"),
            std::string::npos) << r.output;
  fs::copy_file(dir_ + "/data/val.bin", dir_ + "/lone/val.tokens", fs::copy_options::overwrite_existing);
  r = run("eval --checkpoint " + dir_ + "/shape/best.h5 --data " + dir_ + "/lone/val.tokens");
  const Outcome as_bin = run("eval --checkpoint " + dir_ + "/shape/best.h5 --data " + dir_ + "/data/val.bin");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, as_bin.output);
}

// A run that cannot start, or fails before its first checkpoint, leaves the previous run in
// out_dir as it was; a new run never starts from (and so deletes) a checkpoint of out_dir.
TEST_F(TrainerTest, AFailedRunLeavesThePreviousCheckpoints) {
  const std::string out = dir_ + "/keep";
  ASSERT_EQ(run("train " + config() + "--max_iters 10 --out_dir " + out).status, 0);
  auto listing = [&] {
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(out))
      if (e.path().extension() == ".h5") names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> before = listing();
  ASSERT_EQ(before, (std::vector<std::string>{"best.h5", "ckpt_000010.h5"}));
  auto text = [&](const char* name) {
    std::stringstream s;
    s << std::ifstream(out + "/" + name).rdbuf();
    return s.str();
  };
  const std::string metrics = text("metrics.jsonl"), config_toml = text("config.toml");
  ASSERT_FALSE(metrics.empty());

  Outcome r = run("train " + config() + "--max_iters 0 --out_dir " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("max_iters must be at least 1"), std::string::npos) << r.output;
  r = run("train " + config() + "--max_iters 10 --learning_rate 1e30 --out_dir " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("this run wrote no checkpoint"), std::string::npos) << r.output;
  r = run("finetune " + config() + "--max_iters 5 --init " + out + "/best.h5 --out_dir " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is one of those a new run in out_dir"), std::string::npos) << r.output;
  EXPECT_EQ(listing(), before);
  EXPECT_EQ(text("metrics.jsonl"), metrics);
  EXPECT_EQ(text("config.toml"), config_toml);
  EXPECT_FALSE(fs::exists(out + "/previous-run"));
  EXPECT_TRUE(same_weights(out + "/best.h5", out + "/ckpt_000010.h5"));

  // A new run killed before its first checkpoint left the previous one in previous-run/ and
  // metrics of its own: the next command in out_dir puts the previous run back first, and a
  // --resume continues it with the config it recorded (no config given here).
  fs::create_directories(out + "/previous-run");
  for (const char* name : {"best.h5", "ckpt_000010.h5", "metrics.jsonl", "config.toml"})
    fs::rename(out + "/" + name, out + "/previous-run/" + name);
  std::ofstream(out + "/metrics.jsonl") << "{\"killed\": true}\n";
  r = run("train --max_iters 12 --resume --out_dir " + out);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("is back from previous-run/"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/previous-run"));
  EXPECT_EQ(text("metrics.jsonl").rfind(metrics, 0), 0u);  // the previous run's, then 2 steps more
  EXPECT_TRUE(fs::exists(out + "/ckpt_000012.h5"));

  // It comes back even when the command then fails on its options (README).
  {
    const std::vector<std::string> before_kill = listing();
    fs::create_directories(out + "/previous-run");
    for (const std::string& name : before_kill) fs::rename(out + "/" + name, out + "/previous-run/" + name);
    r = run("train " + config() + "--max_iters 0 --out_dir " + out);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("max_iters must be at least 1"), std::string::npos) << r.output;
    EXPECT_EQ(listing(), before_kill);
    EXPECT_FALSE(fs::exists(out + "/previous-run"));
  }

  // Starting a new run from a checkpoint of the set-aside run: it is brought back, and the
  // new run, which would replace it, is refused.
  const std::vector<std::string> checkpoints = listing();
  fs::create_directories(out + "/previous-run");
  for (const std::string& name : checkpoints)
    fs::rename(out + "/" + name, out + "/previous-run/" + name);
  r = run("finetune " + config() + "--max_iters 5 --init " + out + "/previous-run/best.h5" +
          " --out_dir " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is back in out_dir as " + out + "/best.h5"), std::string::npos)
      << r.output;
  EXPECT_EQ(listing(), checkpoints);
  EXPECT_FALSE(fs::exists(out + "/previous-run"));
  // Nor from a file that an older run left in previous-run/: a new run deletes that directory.
  fs::create_directories(out + "/previous-run");
  fs::copy_file(out + "/best.h5", out + "/previous-run/old.h5");
  r = run("finetune " + config() + "--max_iters 5 --init " + out + "/previous-run/old.h5" +
          " --out_dir " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is one of those a new run in out_dir"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/previous-run/old.h5"));
  fs::remove_all(out + "/previous-run");

  // A set-aside run is brought back only when out_dir has no checkpoint of its own.
  fs::create_directories(out + "/previous-run");
  std::ofstream(out + "/previous-run/ckpt_000003.h5") << "not restored";
  r = run("train " + config() + "--max_iters 14 --resume --out_dir " + out);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(out + "/previous-run/ckpt_000003.h5"));
  EXPECT_FALSE(fs::exists(out + "/ckpt_000003.h5"));
  fs::remove_all(out + "/previous-run");

  // One run at a time in an out_dir: while another process holds its lock, train refuses.
  {
    const int fd = ::open((out + "/.tapegpt.lock").c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    r = run("train " + config() + "--max_iters 16 --resume --out_dir " + out);
    ::close(fd);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("is in use by another tapegpt run"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out + "/ckpt_000016.h5"));
  }

  r = run("train " + config() + "--max_iters 10 --resume --out_dir " + dir_ + "/nothing_here");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--resume: no checkpoint in"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ + "/nothing_here"));  // not made (with a lock file) to say so

  // A new run that gets going replaces them once it has a checkpoint of its own.
  ASSERT_EQ(run("train " + config() + "--max_iters 5 --eval_interval 5 --out_dir " + out).status, 0);
  EXPECT_EQ(listing(), (std::vector<std::string>{"best.h5", "ckpt_000005.h5"}));
  EXPECT_FALSE(fs::exists(out + "/previous-run"));
  EXPECT_NE(text("metrics.jsonl"), metrics);
}

// A checkpoint that cannot be written (here: a file size limit, as a full disk) is a one-line
// error and exit 1: not a crash in HDF5 at exit, and no half-written .tmp left to fill the disk.
TEST_F(TrainerTest, AFullDiskIsAnErrorNotACrash) {
  const std::string out = dir_ + "/full";
  Outcome r = testing::run_command("trap '' XFSZ; ulimit -f 100; " + kBinary + " train " +
                                   config() + "--max_iters 10 --out_dir " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(".h5.tmp: cannot write"), std::string::npos) << r.output;
  for (auto& e : fs::directory_iterator(out))
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
}

TEST_F(TrainerTest, NonsenseOptionsAreOneLineErrors) {
  ASSERT_EQ(run("train " + config() + "--max_iters 2 --out_dir " + dir_ + "/for_sample").status, 0);
  for (const std::string bad :
       {"train --learning_rate -1", "train --beta2 1.5", "train --min_lr -1", "train --keep_last 0",
        "train --grad_clip -1", "sample --temperature -1", "sample --top_p 0",
        "sample --max_new_tokens 0", "bench --steps 0", "bench --warmup -1",
        // Seeds CLI11 would wrap or clamp without a word.
        "train --seed -1", "train --seed 18446744073709551616", "sample --seed -1", "bench --seed 1e3",
        // Whole numbers past int64, which CLI11 would clamp without a word.
        "train --log_interval 99999999999999999999", "train --eval_interval -99999999999999999999",
        "sample --max_new_tokens 99999999999999999999",
        // Other bases: CLI11 alone read 0x10 as 16 and clamped hex past int64.
        "train --log_interval 0x10", "train --warmup_iters -0xFFFFFFFFFFFFFFFFFFFF", "train --seed 0x10",
        // true / false, not the prefix of a number (CLI11 alone took 7x as true).
        "train --decay_lr 7x", "train --shuffle 0.5",
        // A cosine "decay" that would raise the learning rate.
        "train --min_lr 0.5",
        // An option for the other kind of data.
        "train --pack_pairs true",
        // Sizes that cannot fit in memory: refused before anything is allocated, not met as
        // the kernel's OOM kill.
        "train --batch_size 4611686018427387904", "train --block_size 100000000",
        "bench --batch_size 4611686018427387904", "eval --batch_size 576460752303423488",
        "eval --batch_size 0"}) {
    const std::string cmd = bad.substr(0, bad.find(' '));
    const std::string checkpoint = "--checkpoint " + dir_ + "/for_sample/best.h5 ";
    const std::string args = cmd == "train"    ? config() + "--out_dir " + dir_ + "/nonsense "
                             : cmd == "sample" ? checkpoint + "--prompt a "
                             : cmd == "eval"   ? checkpoint + "--data " + dir_ + "/data/val.bin "
                                               : std::string("--n_layer 1 ");
    Outcome r = run(bad + " " + args);
    EXPECT_EQ(r.status, 1) << bad << "\n" << r.output;
    const std::string option = bad.substr(bad.find("--") + 2, bad.rfind(' ') - bad.find("--") - 2);
    EXPECT_NE(r.output.find(option), std::string::npos) << bad << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << bad << "\n" << r.output;
  }
}

// Every --tokenizer option takes a checkpoint (its own tokenizer), as prepare's does; a file
// that is neither a checkpoint nor JSON is named with the byte it stumbled on.
TEST_F(TrainerTest, TokenizeAndExamplesTakeACheckpointsTokenizer) {
  const std::string out = dir_ + "/tok_ckpt";
  ASSERT_EQ(run("train " + config() + "--max_iters 2 --out_dir " + out).status, 0);
  const Outcome by_file = run("tokenize --tokenizer " + dir_ + "/data/tokenizer.json --text 'a byte'");
  ASSERT_EQ(by_file.status, 0) << by_file.output;
  const Outcome by_ckpt = run("tokenize --tokenizer " + out + "/best.h5 --text 'a byte'");
  EXPECT_EQ(by_ckpt.status, 0) << by_ckpt.output;
  EXPECT_EQ(by_ckpt.output, by_file.output);
  const Outcome examples = run("examples --tokenizer " + out + "/best.h5 --text 'a byte' --block_size 3");
  EXPECT_EQ(examples.status, 0) << examples.output;
  std::ofstream(dir_ + "/binary.json") << std::string("\x89PNG\r\n");
  const Outcome binary = run("tokenize --tokenizer " + dir_ + "/binary.json --text a");
  EXPECT_EQ(binary.status, 1);
  EXPECT_NE(binary.output.find("unexpected byte 0x89"), std::string::npos) << binary.output;
}

// Weights that are not finite give a loss that is not a number: eval says so and fails
// instead of printing "nan" with exit status 0.
// A checkpoint holding NaN weights is refused when loaded, naming the file and the weight (it
// used to surface as "training diverged (lower learning_rate?)", or as NaN logits mid-sample).
TEST_F(TrainerTest, NonFiniteWeightsAreRefusedOnLoad) {
  const std::string out = dir_ + "/nan";
  ASSERT_EQ(run("train " + config() + "--max_iters 2 --out_dir " + out).status, 0);
  Outcome r = run("eval --checkpoint " + out + "/best.h5 --data " + dir_ + "/data/val.bin");
  ASSERT_EQ(r.status, 0) << r.output;
  auto model = load_model(out + "/best.h5");
  model->flat_values()[0] = std::nanf("");
  Checkpoint extras;  // weights and tokenizer only
  extras.tokenizer_json = read_checkpoint(out + "/best.h5").tokenizer_json;
  save_checkpoint(out + "/nan.h5", *model, extras);
  for (const std::string& command :
       {"eval --checkpoint " + out + "/nan.h5 --data " + dir_ + "/data/val.bin",
        "sample --checkpoint " + out + "/nan.h5 --prompt 'The '",
        "finetune " + config() + "--init " + out + "/nan.h5 --max_iters 2 --out_dir " + out + "/ft"}) {
    r = run(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find("nan.h5: model/transformer.wte.weight holds NaN or Inf values"), std::string::npos)
        << command << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  // A loss past ~709 has a perplexity no double holds: JSON has no Inf, so it is null (eval
  // printed `inf`, which no JSON reader takes).
  model = load_model(out + "/best.h5");
  for (auto& [name, t] : model->named_parameters())
    if (name == "transformer.ln_f.weight")
      for (int64_t i = 0; i < t.numel(); i++) t.data()[i] *= 1e6f;
  save_checkpoint(out + "/sharp.h5", *model, extras);
  r = run("eval --checkpoint " + out + "/sharp.h5 --data " + dir_ + "/data/val.bin --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GT(testing::json_number(r.output, "loss"), 1000.0) << r.output;
  EXPECT_NE(r.output.find("\"perplexity\": null,"), std::string::npos) << r.output;
}

// Files that are not what the option wants: one-line errors naming them, nothing read forever.
TEST_F(TrainerTest, FilesThatAreNotWhatTheOptionWants) {
  const std::string out = dir_ + "/notwhat";
  ASSERT_EQ(run("train " + config() + "--max_iters 2 --out_dir " + out).status, 0);
  fs::create_directories(out + "/damaged");
  std::ofstream(out + "/damaged/ckpt_000002.h5") << "not HDF5";
  fs::create_directories(out + "/renamed");
  fs::copy_file(out + "/ckpt_000002.h5", out + "/renamed/ckpt_000010.h5");
  const std::pair<std::string, std::string> cases[] = {
      {"train --config " + kBinary, kBinary + ": not a text file (a NUL byte at offset"},
      {"sample --checkpoint " + out + "/best.h5 --prompt_file /dev/zero", "/dev/zero: is a device, expected a file"},
      {"train " + config() + "--out_dir ''", "out_dir: no directory given"},
      {"train " + config() + "--out_dir " + out + "/best.h5/sub", "best.h5/sub: cannot create (Not a directory)"},
      {"train " + config() + "--resume --max_iters 4 --out_dir " + out + "/damaged",
       "no readable checkpoint in " + out + "/damaged"},
      {"train " + config() + "--resume --max_iters 12 --out_dir " + out + "/renamed",
       "renamed/ckpt_000010.h5: named for step 10 but holds step 2"},
      {"eval --checkpoint " + out + "/fifo --data " + dir_ + "/data/val.bin",
       "fifo: is not a regular file (a pipe or a device), expected a checkpoint file"},
      {"eval --checkpoint " + out + "/best.h5 --data " + out + "/fifo", "fifo: not a file"},
      // (not "`init` ... is required": a resumed fine-tune takes its weights from out_dir)
      {"finetune --resume --out_dir " + out + "/nothing", "--resume: no checkpoint in " + out + "/nothing"},
      {"train " + config() + "--resume --max_iters 12 --out_dir " + out + "/restepped",
       "restepped/ckpt_000002.h5: optimizer/step 7 does not match state/iteration 2"}};
  // A named pipe with no writer is refused at once (opening it waited for a writer forever).
  ASSERT_EQ(::mkfifo((out + "/fifo").c_str(), 0600), 0);
  // AdamW's step count, which its bias correction uses, out of step with the run's.
  fs::create_directories(out + "/restepped");
  fs::copy_file(out + "/ckpt_000002.h5", out + "/restepped/ckpt_000002.h5");
  {
    hid_t file = H5Fopen((out + "/restepped/ckpt_000002.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    ASSERT_GE(H5Adelete_by_name(file, "optimizer", "step", H5P_DEFAULT), 0);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate_by_name(file, "optimizer", "step", H5T_STD_I64LE, scalar, H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(scalar);
    ASSERT_GE(attr, 0);
    const int64_t seven = 7;
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT64, &seven), 0);
    H5Aclose(attr);
    H5Fclose(file);
  }
  for (const auto& [command, says] : cases) {
    Outcome r = run(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << command << "\n" << r.output;
  }
}

TEST_F(TrainerTest, FinetuneFreezesWhatItIsTold) {
  ASSERT_EQ(run("train " + config() + "--max_iters 5 --out_dir " + dir_ + "/base").status, 0);
  const std::string init = dir_ + "/base/best.h5";
  Outcome r = run("finetune " + config() + "--init " + init + " --max_iters 5 --learning_rate 1e-2"
                  " --freeze_embeddings true --freeze_layers 1 --out_dir " + dir_ + "/frozen");
  ASSERT_EQ(r.status, 0) << r.output;
  // An interrupted fine-tune resumes (its shape comes from the checkpoint, not from defaults)
  // and keeps the frozen parameters frozen.
  r = run("finetune " + config() + "--init " + init + " --max_iters 8 --learning_rate 1e-2"
          " --freeze_embeddings true --freeze_layers 1 --resume --out_dir " + dir_ + "/frozen");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resuming from"), std::string::npos) << r.output;
  auto before = load_model(init), after = load_model(dir_ + "/frozen/ckpt_000008.h5");
  auto a = after->named_parameters();
  for (auto& [name, t] : before->named_parameters()) {
    const Tensor* u = nullptr;
    for (auto& [n2, t2] : a) if (n2 == name) u = &t2;
    ASSERT_NE(u, nullptr) << name;
    const bool same = std::memcmp(t.data(), u->data(), sizeof(float) * t.numel()) == 0;
    const bool frozen = name == "transformer.wte.weight" || name == "transformer.wpe.weight" ||
                        name.rfind("transformer.h.0.", 0) == 0;
    EXPECT_EQ(same, frozen) << name;
  }
}

TEST_F(TrainerTest, SampleIsSeededAndEvalReportsPerplexity) {
  ASSERT_EQ(run("train " + config() + "--max_iters 10 --out_dir " + dir_ + "/s").status, 0);
  const std::string ck = "--checkpoint " + dir_ + "/s/best.h5 ";
  Outcome a = run("sample " + ck + "--prompt 'The ' --max_new_tokens 40 --seed 3");
  Outcome b = run("sample " + ck + "--prompt 'The ' --max_new_tokens 40 --seed 3");
  Outcome c = run("sample " + ck + "--prompt 'The ' --max_new_tokens 40 --seed 4");
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_NE(a.output, c.output);
  EXPECT_EQ(a.output.rfind("The ", 0), 0u);
  // --num_samples: samples with seeds 3, 4, ... between separators; --prompt_file's text as the
  // prompt. Sample k is what --seed 3+k gives alone.
  std::ofstream(dir_ + "/s/prompt.txt") << "The ";
  Outcome three = run("sample " + ck + "--prompt_file " + dir_ + "/s/prompt.txt --max_new_tokens 40 --seed 3 --num_samples 3");
  ASSERT_EQ(three.status, 0) << three.output;
  const std::string separator = "\n---------------\n";
  EXPECT_EQ(three.output, a.output + separator + c.output + separator +
                              run("sample " + ck + "--prompt 'The ' --max_new_tokens 40 --seed 5").output)
      << three.output;
  // A config's prompt is a TOML string: its escapes are decoded ("\n" is a line break, as the
  // file prompt's is; it reached the model as a backslash and an n), and a --prompt_file on the
  // command line wins over it (it was "not both").
  std::ofstream(dir_ + "/s/two_lines.txt") << "The \"ham\"\nThe ";
  std::ofstream(dir_ + "/s/prompt.toml") << "prompt = \"The \\\"ham\\\"\\nThe\\u0020\"\n"
                                         << "max_new_tokens = 40\nseed = 3\n";
  Outcome from_file = run("sample " + ck + "--prompt_file " + dir_ + "/s/two_lines.txt --max_new_tokens 40 --seed 3");
  ASSERT_EQ(from_file.status, 0) << from_file.output;
  EXPECT_EQ(from_file.output.rfind("The \"ham\"\nThe ", 0), 0u) << from_file.output;
  Outcome from_config = run("sample " + ck + "--config " + dir_ + "/s/prompt.toml");
  EXPECT_EQ(from_config.output, from_file.output);
  Outcome overridden = run("sample " + ck + "--config " + dir_ + "/s/prompt.toml --prompt_file " + dir_ + "/s/prompt.txt");
  EXPECT_EQ(overridden.output, a.output);
  std::ofstream(dir_ + "/s/bad_escape.toml") << "prompt = \"C:\\data\"\n";
  Outcome bad = run("sample " + ck + "--config " + dir_ + "/s/bad_escape.toml");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("bad_escape.toml: 'prompt': unknown escape '\\d'"), std::string::npos) << bad.output;
  Outcome e = run("eval " + ck + "--data " + dir_ + "/data/val.bin --max_batches 5 --json");
  ASSERT_EQ(e.status, 0) << e.output;
  // 5 batches of eval's 8 windows of block_size 32; the perplexity is exp(loss).
  const double loss = testing::json_number(e.output, "loss");
  EXPECT_NEAR(testing::json_number(e.output, "perplexity"), std::exp(loss), 1e-3 * std::exp(loss)) << e.output;
  EXPECT_EQ(testing::json_number(e.output, "batches"), 5.0) << e.output;
  EXPECT_EQ(testing::json_number(e.output, "targets"), 5.0 * 8 * 32) << e.output;
  EXPECT_GT(loss, 1.0) << e.output;
  const double uniform = std::log(static_cast<double>(TokenFile::open(dir_ + "/data/val.bin").vocab_size()));
  EXPECT_LT(loss, uniform) << e.output;  // better than guessing
  // Every token after the first is scored, also past the last whole window (block_size 32)
  // and in a text shorter than one window.
  std::ofstream(dir_ + "/s/45.txt") << "The computer is a moron, said Peter Drucker. ";
  std::ofstream(dir_ + "/s/10.txt") << "The moron.";
  e = run("eval " + ck + "--data " + dir_ + "/s/45.txt --json");
  EXPECT_NE(e.output.find("\"batches\": 1, \"targets\": 44}"), std::string::npos) << e.output;
  e = run("eval " + ck + "--data " + dir_ + "/s/10.txt --json");
  EXPECT_NE(e.output.find("\"batches\": 1, \"targets\": 9}"), std::string::npos) << e.output;
  // inspect: what the checkpoint holds (best.h5 of 10 steps of 4 × 32 tokens, dropout 0.1).
  Outcome i = run("inspect " + dir_ + "/s/best.h5");
  ASSERT_EQ(i.status, 0) << i.output;
  const int64_t V = TokenFile::open(dir_ + "/data/val.bin").vocab_size();
  const std::string params = std::to_string(load_model(dir_ + "/s/best.h5")->num_parameters());
  for (const std::string& line :
       {"config      vocab_size=" + std::to_string(V) + " block_size=32 n_layer=2 n_head=2 n_embd=32 bias=true dropout=0.1\n",
        std::string("attention   \"dense\" (window 128): dense dense\n"),
        " " + params + "  (lm_head.weight tied to transformer.wte.weight)\n",
        std::string("state       step=10 tokens_seen=1280 best_val_loss="),
        std::string("optimizer   AdamW moments stored\n")})
    EXPECT_NE(i.output.find(line), std::string::npos) << line << "\nin\n" << i.output;
  // One token has nothing to predict.
  std::ofstream(dir_ + "/s/1.txt") << "T";
  e = run("eval " + ck + "--data " + dir_ + "/s/1.txt");
  EXPECT_EQ(e.status, 1);
  EXPECT_NE(e.output.find("1 token(s), too few to score"), std::string::npos) << e.output;
}

// Gradient accumulation is one big batch in pieces: with masked targets (pairs, whose
// completions differ in length), each micro-batch weighs by its counted targets, not 1/accum.
TEST_F(TrainerTest, AccumulationWeighsMicroBatchesByTheirTargets) {
  const std::string d = dir_ + "/accum";
  Outcome r = run("prepare --input /usr/share/games/fortunes/computers --tokenizer bpe --vocab_size 300 --out " + d + "/data");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("train --dataset " + d + "/data --n_layer 1 --n_head 2 --n_embd 16 --block_size 16 --batch_size 4"
          " --max_iters 2 --out_dir " + d + "/init");
  ASSERT_EQ(r.status, 0) << r.output;
  {
    std::ofstream pairs(d + "/pairs.jsonl");
    for (int i = 0; i < 4; i++) pairs << "{\"prompt\": \"Q" << i << ": \", \"completion\": \"a\"}\n";
    for (int i = 0; i < 4; i++) pairs << "{\"prompt\": \"Q" << i << ": \", \"completion\": \"the bits went by\"}\n";
  }
  auto step_one = [&](const std::string& name, const std::string& batching) {
    Outcome o = run("finetune --init " + d + "/init/best.h5 --pairs " + d + "/pairs.jsonl --max_iters 1"
                    " --shuffle false --dropout 0 --log_interval 1 --out_dir " + d + "/" + name + " " + batching);
    EXPECT_EQ(o.status, 0) << o.output;
    std::ifstream in(d + "/" + name + "/metrics.jsonl");
    std::string line;
    std::getline(in, line);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(line, m, std::regex("\"loss\": ([0-9.e-]+), .*\"grad_norm\": ([0-9.e-]+)"))) << line;
    return m.size() == 3 ? std::make_pair(std::stod(m[1]), std::stod(m[2])) : std::make_pair(0.0, 0.0);
  };
  const auto whole = step_one("whole", "--batch_size 8 --gradient_accumulation_steps 1");
  const auto pieces = step_one("pieces", "--batch_size 4 --gradient_accumulation_steps 2");
  EXPECT_NEAR(pieces.first, whole.first, 1e-5 * whole.first);    // loss
  EXPECT_NEAR(pieces.second, whole.second, 1e-4 * whole.second);  // gradient norm
}

}  // namespace
}  // namespace tg

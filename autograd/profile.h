// profile.h — where a step's time goes, per op and direction ("linear.forward",
// "attention.backward", ...). Off by default: a scope then costs one predictable branch.
// `tapegpt bench --profile` switches it on and prints the table.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace tg {

struct OpTime {
  std::string name;
  double seconds = 0;
  int64_t calls = 0;
};

void set_profiling(bool on);
bool profiling();
void profile_add(const char* name, double seconds);
std::vector<OpTime> profile_table();  // sorted by time, largest first
void profile_reset();

// Times its own lifetime into `name` when profiling is on.
class ProfileScope {
 public:
  explicit ProfileScope(const char* name) : name_(profiling() ? name : nullptr) {
    if (name_) start_ = std::chrono::steady_clock::now();
  }
  ~ProfileScope() {
    if (name_)
      profile_add(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  const char* name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tg

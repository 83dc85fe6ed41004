// file_util.cpp — see file_util.h.
#include "data/file_util.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tg {

std::string read_file(const std::string& path) {
  struct stat st;  // (a path that is not there: fopen below says so)
  const bool known = ::stat(path.c_str(), &st) == 0;
  if (known && S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is a directory, expected a file");
  // A device (/dev/zero) never ends: read whole, it would fill the memory. (A pipe may.)
  if (known && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
    throw std::runtime_error(path + ": is a device, expected a file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw std::runtime_error(path + ": read error");
  return out;
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(tmp + ": cannot create (" + std::strerror(errno) + ")");
  errno = 0;  // (so a reason printed below is this write's)
  const bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  if (std::fclose(f) != 0 || !ok) {
    const std::string reason = write_error_reason();
    std::remove(tmp.c_str());
    throw std::runtime_error(tmp + ": write failed (" + reason + ")");
  }
  try {
    rename_file(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

std::string write_error_reason() {
  return errno != 0 ? std::strerror(errno) : "disk full?";
}

void rename_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw std::runtime_error(to + ": cannot rename from " + from + " (" + std::strerror(errno) + ")");
}

int64_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is a directory, expected a file");
  // A pipe reports 0 bytes and cannot be read twice (prepare reads its inputs more than once).
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(path + ": is not a regular file (a pipe or a device); save it to a file first");
  return static_cast<int64_t>(st.st_size);
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace tg

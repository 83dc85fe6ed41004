// token_file.cpp — see token_file.h.
#include "data/token_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "data/file_util.h"

namespace tg {

bool starts_as_token_file(const std::string& path) {
  std::error_code error;  // (reading a named pipe would wait for a writer)
  if (!std::filesystem::is_regular_file(path, error)) return false;
  char head[sizeof(kTokenFileMagic)] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  const bool whole = std::fread(head, 1, sizeof(head), f) == sizeof(head);
  std::fclose(f);
  return whole && std::memcmp(head, kTokenFileMagic, sizeof(head)) == 0;
}

namespace {

uint32_t load_u32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t load_u64(const unsigned char* p) { return uint64_t(load_u32(p)) | uint64_t(load_u32(p + 4)) << 32; }
void store_u32(unsigned char* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<unsigned char>(v >> (8 * k));
}
void store_u64(unsigned char* p, uint64_t v) {
  for (int k = 0; k < 8; ++k) p[k] = static_cast<unsigned char>(v >> (8 * k));
}

void make_header(unsigned char* h, int bpt, uint64_t count, uint64_t vocab) {
  std::memcpy(h, kTokenFileMagic, 8);
  store_u32(h + 8, kTokenFileVersion);
  store_u32(h + 12, static_cast<uint32_t>(bpt));
  store_u64(h + 16, count);
  store_u64(h + 24, vocab);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

}  // namespace

TokenFile TokenFile::open(const std::string& path, bool validate_ids) {
  // O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0) fail(path, std::string("cannot open token file (") + std::strerror(errno) + ")");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file (a directory, a pipe or a device)");
  }
  const auto bytes = static_cast<size_t>(st.st_size);
  if (bytes < static_cast<size_t>(kTokenFileHeaderBytes)) {
    ::close(fd);
    fail(path, "not a tapegpt token file (only " + std::to_string(bytes) + " bytes, the header alone is 32)");
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) fail(path, std::string("cannot memory-map (") + std::strerror(errno) + ")");
  TokenFile tf;
  tf.path_ = path;
  tf.map_ = map;
  tf.map_bytes_ = bytes;  // from here on, tf's destructor unmaps on any error below
  const auto* h = static_cast<const unsigned char*>(map);
  if (std::memcmp(h, kTokenFileMagic, 8) != 0) fail(path, "not a tapegpt token file (wrong magic, expected \"TGTOKENS\")");
  const uint32_t version = load_u32(h + 8);
  if (version != kTokenFileVersion)
    fail(path, "token file format version " + std::to_string(version) + " is not supported (expected 1)");
  const uint32_t bpt = load_u32(h + 12);
  if (bpt != 2 && bpt != 4) fail(path, "bytes per token is " + std::to_string(bpt) + ", expected 2 or 4");
  const uint64_t count = load_u64(h + 16), vocab = load_u64(h + 24);
  if (vocab == 0 || vocab > (uint64_t{1} << 31)) fail(path, "vocab size " + std::to_string(vocab) + " in the header is out of range");
  if (bpt == 2 && vocab > 65536) fail(path, "vocab size " + std::to_string(vocab) + " does not fit 2-byte ids");
  const uint64_t payload = bytes - kTokenFileHeaderBytes;
  if (count > payload / bpt || payload != count * bpt)
    fail(path, (payload < count * bpt ? "truncated: header says " : "size mismatch: header says ") +
                   std::to_string(count) + " tokens of " + std::to_string(bpt) + " bytes but the file has " +
                   std::to_string(payload) + " bytes of data");
  tf.data_ = h + kTokenFileHeaderBytes;
  tf.count_ = static_cast<int64_t>(count);
  tf.vocab_size_ = static_cast<int64_t>(vocab);
  tf.bytes_per_token_ = static_cast<int>(bpt);
  if (validate_ids) {
    // One pass over the map; the loop is a branch-free max that the compiler vectorises.
    const int64_t chunk = 1 << 20;
    for (int64_t s = 0; s < tf.count_; s += chunk) {
      const int64_t e = std::min(tf.count_, s + chunk);
      uint32_t mx = 0;
      if (bpt == 2) {
        for (int64_t i = s; i < e; ++i) {
          const uint32_t v = uint32_t(tf.data_[2 * i]) | uint32_t(tf.data_[2 * i + 1]) << 8;
          mx = v > mx ? v : mx;
        }
      } else {
        for (int64_t i = s; i < e; ++i) {
          const uint32_t v = load_u32(tf.data_ + 4 * i);
          mx = v > mx ? v : mx;
        }
      }
      if (mx >= vocab) {
        for (int64_t i = s; i < e; ++i)
          if (static_cast<uint64_t>(static_cast<uint32_t>(tf.at(i))) >= vocab)
            fail(path, "token " + std::to_string(i) + " has id " + std::to_string(static_cast<uint32_t>(tf.at(i))) +
                           ", not below the vocab size " + std::to_string(vocab));
      }
    }
  }
  return tf;
}

std::shared_ptr<const TokenFile> TokenFile::open_shared(const std::string& path, bool validate_ids) {
  return std::make_shared<const TokenFile>(open(path, validate_ids));
}

TokenFile::TokenFile(TokenFile&& o) noexcept { *this = std::move(o); }

TokenFile& TokenFile::operator=(TokenFile&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, map_bytes_);
    path_ = std::move(o.path_);
    map_ = o.map_, map_bytes_ = o.map_bytes_, data_ = o.data_;
    count_ = o.count_, vocab_size_ = o.vocab_size_, bytes_per_token_ = o.bytes_per_token_;
    o.map_ = nullptr, o.map_bytes_ = 0, o.data_ = nullptr, o.count_ = 0;
  }
  return *this;
}

TokenFile::~TokenFile() {
  if (map_) ::munmap(map_, map_bytes_);
}

int32_t TokenFile::at(int64_t i) const {
  assert(i >= 0 && i < count_);
  const unsigned char* p = data_ + i * bytes_per_token_;
  return bytes_per_token_ == 2 ? static_cast<int32_t>(uint32_t(p[0]) | uint32_t(p[1]) << 8)
                               : static_cast<int32_t>(load_u32(p));
}

void TokenFile::read(int64_t start, int64_t n, int32_t* out) const {
  if (start < 0 || n < 0 || start + n > count_)
    throw std::out_of_range(path_ + ": read of tokens [" + std::to_string(start) + ", " + std::to_string(start + n) +
                            ") outside [0, " + std::to_string(count_) + ")");
  for (int64_t i = 0; i < n; ++i) out[i] = at(start + i);
}

std::vector<int32_t> TokenFile::read_all() const {
  std::vector<int32_t> out(static_cast<size_t>(count_));
  read(0, count_, out.data());
  return out;
}

TokenFileWriter::TokenFileWriter(const std::string& path, int64_t vocab_size)
    : path_(path), tmp_(path + ".tmp"), vocab_size_(vocab_size), bytes_per_token_(bytes_per_token_for(vocab_size)) {
  if (vocab_size <= 0 || vocab_size > (int64_t{1} << 31))
    throw std::invalid_argument(path + ": vocab size " + std::to_string(vocab_size) + " out of range");
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(tmp_, std::string("cannot create (") + std::strerror(errno) + ")");
  unsigned char h[kTokenFileHeaderBytes];
  make_header(h, bytes_per_token_, 0, static_cast<uint64_t>(vocab_size));
  if (std::fwrite(h, 1, sizeof h, f_) != sizeof h) fail(tmp_, "write failed (" + write_error_reason() + ")");
  buf_.reserve(1 << 20);
}

TokenFileWriter::~TokenFileWriter() {
  if (f_) std::fclose(f_);
  if (!committed_) std::remove(tmp_.c_str());
}

void TokenFileWriter::append(const int32_t* ids, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab_size_)
      throw std::invalid_argument(path_ + ": token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                  std::to_string(vocab_size_) + ")");
    const auto v = static_cast<uint32_t>(id);
    buf_.push_back(static_cast<unsigned char>(v));
    buf_.push_back(static_cast<unsigned char>(v >> 8));
    if (bytes_per_token_ == 4) {
      buf_.push_back(static_cast<unsigned char>(v >> 16));
      buf_.push_back(static_cast<unsigned char>(v >> 24));
    }
    if (buf_.size() >= (1 << 20)) flush();
  }
  count_ += static_cast<int64_t>(n);
}

void TokenFileWriter::flush() {
  errno = 0;  // (so a reason printed below is this write's)
  if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) fail(tmp_, "write failed (" + write_error_reason() + ")");
  buf_.clear();
}

void TokenFileWriter::close() {
  if (!f_) throw std::logic_error(path_ + ": TokenFileWriter::close called twice");
  flush();
  unsigned char h[kTokenFileHeaderBytes];
  make_header(h, bytes_per_token_, static_cast<uint64_t>(count_), static_cast<uint64_t>(vocab_size_));
  if (std::fseek(f_, 0, SEEK_SET) != 0 || std::fwrite(h, 1, sizeof h, f_) != sizeof h) fail(tmp_, "write failed (" + write_error_reason() + ")");
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!closed) fail(tmp_, "write failed on close (" + write_error_reason() + ")");
  closed_ = true;
}

void TokenFileWriter::commit() {
  if (!closed_ || committed_) throw std::logic_error(path_ + ": TokenFileWriter::commit needs one close() first");
  rename_file(tmp_, path_);
  committed_ = true;
}

void write_token_file(const std::string& path, const std::vector<int32_t>& ids, int64_t vocab_size) {
  TokenFileWriter w(path, vocab_size);
  w.append(ids);
  w.finish();
}

}  // namespace tg

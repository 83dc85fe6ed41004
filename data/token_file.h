// token_file.h — token files (*.bin): a 32-byte header, then the ids, little-endian.
//
//   offset  size  field
//        0     8  magic "TGTOKENS"
//        8     4  format version (1), uint32
//       12     4  bytes per token: 2 when vocab_size <= 65536, else 4, uint32
//       16     8  token count N, uint64
//       24     8  vocab size V, uint64
//       32  N*bpt ids, little-endian unsigned
//
// Read through a memory map, so a corpus larger than RAM costs only the pages being read.
// Opening checks the magic, version, width, that the file size is exactly 32 + N*bpt, and (by
// default) that every id is < V: a bad file is refused at the door, not in the middle of training.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "data/token_source.h"

namespace tg {

constexpr char kTokenFileMagic[8] = {'T', 'G', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr uint32_t kTokenFileVersion = 1;
constexpr int64_t kTokenFileHeaderBytes = 32;

// 2 when every id fits in 16 bits, else 4.
inline int bytes_per_token_for(int64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

// Whether the file at path starts with the token-file magic (false if it cannot be read).
bool starts_as_token_file(const std::string& path);

class TokenFile : public TokenSource {
 public:
  // Throws std::runtime_error "<path>: <problem>" for a missing file, wrong magic, unknown
  // version, bad width, truncated or over-long data, or (validate_ids) an id >= vocab size.
  static TokenFile open(const std::string& path, bool validate_ids = true);
  static std::shared_ptr<const TokenFile> open_shared(const std::string& path, bool validate_ids = true);

  TokenFile(TokenFile&& other) noexcept;
  TokenFile& operator=(TokenFile&& other) noexcept;
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;
  ~TokenFile() override;

  int64_t size() const override { return count_; }
  int64_t vocab_size() const override { return vocab_size_; }
  int bytes_per_token() const { return bytes_per_token_; }
  int32_t at(int64_t i) const;  // no bounds check beyond an assert; use read() for ranges
  void read(int64_t start, int64_t n, int32_t* out) const override;
  std::vector<int32_t> read_all() const;
  std::string name() const override { return path_; }

 private:
  TokenFile() = default;
  std::string path_;
  void* map_ = nullptr;       // the whole file, read-only
  size_t map_bytes_ = 0;
  const unsigned char* data_ = nullptr;  // first id
  int64_t count_ = 0, vocab_size_ = 0;
  int bytes_per_token_ = 2;
};

// Streams ids into a token file: the header is written with a count of 0, ids are buffered
// and appended to path.tmp; close() patches the count in, and commit() renames path.tmp to path
// (so a crash leaves no half-written file under the final name). Memory use is the buffer,
// whatever the count.
class TokenFileWriter {
 public:
  TokenFileWriter(const std::string& path, int64_t vocab_size);
  ~TokenFileWriter();  // without commit(), removes the temporary file
  TokenFileWriter(const TokenFileWriter&) = delete;
  TokenFileWriter& operator=(const TokenFileWriter&) = delete;

  // Throws std::invalid_argument naming the id if one is outside [0, vocab_size).
  void append(const int32_t* ids, size_t n);
  void append(const std::vector<int32_t>& ids) { append(ids.data(), ids.size()); }
  int64_t count() const { return count_; }
  void close();   // the whole file, still at path.tmp
  void commit();  // path.tmp becomes path; after close()
  void finish() {
    close();
    commit();
  }

 private:
  void flush();
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool closed_ = false, committed_ = false;
  int64_t vocab_size_, count_ = 0;
  int bytes_per_token_;
  std::vector<unsigned char> buf_;
};

// Writes ids to path in one go (tests, small files).
void write_token_file(const std::string& path, const std::vector<int32_t>& ids, int64_t vocab_size);

}  // namespace tg

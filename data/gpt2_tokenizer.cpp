// gpt2_tokenizer.cpp — see gpt2_tokenizer.h.
#include "data/gpt2_tokenizer.h"

#include <stdexcept>
#include <unordered_map>

#include "data/file_util.h"
#include "data/utf8.h"

namespace tg {
namespace {

// GPT-2's bytes_to_unicode(): printable bytes stand for themselves; the other 68 bytes are
// mapped, in order, to U+0100, U+0101, ... so every byte has a visible character.
std::array<char32_t, 256> byte_to_char() {
  std::array<char32_t, 256> map{};
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
  int next = 0;
  for (int b = 0; b < 256; ++b) map[b] = printable(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
  return map;
}

// Maps a token string of encoder.json back to raw bytes; false if a character is not one of
// the 256 of bytes_to_unicode.
bool token_to_bytes(const std::string& token, const std::unordered_map<char32_t, unsigned char>& char_to_byte,
                    std::string* bytes) {
  bytes->clear();
  size_t i = 0;
  while (i < token.size()) {
    char32_t cp;
    const size_t len = utf8::decode(token, i, &cp);
    if (len == 0) return false;
    auto it = char_to_byte.find(cp);
    if (it == char_to_byte.end()) return false;
    bytes->push_back(static_cast<char>(it->second));
    i += len;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, int32_t>> parse_gpt2_encoder(const Json& json, const std::string& where) {
  std::vector<std::pair<std::string, int32_t>> out;
  const auto& obj = json.as_object(where);
  if (obj.empty()) throw std::runtime_error(where + ": empty encoder, expected token → id entries");
  out.reserve(obj.size());
  for (const auto& [key, v] : obj) {
    const std::string at = where + ": key \"" + key + "\"";
    if (!v.is_number()) throw std::runtime_error(at + ": expected an integer id");
    const int64_t id = v.as_int(at);
    if (id < 0 || id >= (int64_t{1} << 31)) throw std::runtime_error(at + ": id " + std::to_string(id) + " out of range");
    out.emplace_back(key, static_cast<int32_t>(id));
  }
  return out;
}

std::vector<std::string> parse_gpt2_merges(const std::string& text, const std::string& where) {
  std::vector<std::string> out;
  size_t start = 0;
  int64_t line = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string s = text.substr(start, end - start);
    ++line;
    start = end + 1;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    if (s.empty() || (line == 1 && s.rfind("#version", 0) == 0)) continue;
    const size_t sp = s.find(' ');
    if (sp == 0 || sp == std::string::npos || sp + 1 == s.size() || s.find(' ', sp + 1) != std::string::npos)
      throw std::runtime_error(where + " line " + std::to_string(line) + ": expected two tokens separated by one space, found \"" + s + "\"");
    out.push_back(std::move(s));
  }
  if (out.empty()) throw std::runtime_error(where + ": no merges found");
  return out;
}

Gpt2Tokenizer::Gpt2Tokenizer(std::vector<std::pair<std::string, int32_t>> encoder, std::vector<std::string> merges,
                             const std::string& encoder_where, const std::string& merges_where)
    : encoder_(std::move(encoder)), merges_(std::move(merges)) {
  const std::array<char32_t, 256> b2c = byte_to_char();
  std::unordered_map<char32_t, unsigned char> c2b;
  for (int b = 0; b < 256; ++b) c2b[b2c[b]] = static_cast<unsigned char>(b);

  // Ids must be exactly 0..n-1, each used once.
  const auto n = static_cast<int32_t>(encoder_.size());
  std::vector<std::string> tokens(n);
  std::vector<bool> used(n, false);
  std::unordered_map<std::string, int32_t> id_of;
  id_of.reserve(encoder_.size() * 2);
  std::string bytes;
  for (const auto& [key, id] : encoder_) {
    const std::string at = encoder_where + ": key \"" + key + "\"";
    if (id < 0 || id >= n) throw std::runtime_error(at + ": id " + std::to_string(id) + " is not below the number of entries " + std::to_string(n));
    if (used[id]) throw std::runtime_error(at + ": id " + std::to_string(id) + " is used twice");
    if (!token_to_bytes(key, c2b, &bytes)) throw std::runtime_error(at + ": character outside GPT-2's byte alphabet");
    if (!id_of.emplace(key, id).second) throw std::runtime_error(at + ": duplicate key");
    used[id] = true;
    tokens[id] = bytes;
    if (key == "<|endoftext|>") eot_ = id;
  }
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) {
    std::string key;
    utf8::append(key, b2c[b]);
    auto it = id_of.find(key);
    if (it == id_of.end()) throw std::runtime_error(encoder_where + ": no token for byte " + std::to_string(b) + " (\"" + key + "\")");
    byte_ids[b] = it->second;
  }
  std::vector<BytePairModel::Merge> ms;
  ms.reserve(merges_.size());
  for (size_t r = 0; r < merges_.size(); ++r) {
    const std::string& m = merges_[r];
    const size_t sp = m.find(' ');
    const std::string at = merges_where + " merge " + std::to_string(r + 1) + " \"" + m + "\"";
    if (sp == std::string::npos) throw std::runtime_error(at + ": expected two tokens separated by a space");
    const std::string left = m.substr(0, sp), right = m.substr(sp + 1);
    auto l = id_of.find(left), rt = id_of.find(right), res = id_of.find(left + right);
    if (l == id_of.end()) throw std::runtime_error(at + ": token \"" + left + "\" is not in the encoder");
    if (rt == id_of.end()) throw std::runtime_error(at + ": token \"" + right + "\" is not in the encoder");
    if (res == id_of.end()) throw std::runtime_error(at + ": merged token \"" + left + right + "\" is not in the encoder");
    ms.push_back({l->second, rt->second, res->second});
  }
  model_ = BytePairModel(std::move(tokens), byte_ids, std::move(ms));
}

Gpt2Tokenizer Gpt2Tokenizer::from_dir(const std::string& dir) {
  const std::string enc_path = dir + "/encoder.json", bpe_path = dir + "/vocab.bpe";
  const Json enc = Json::parse(read_file(enc_path), enc_path);
  return Gpt2Tokenizer(parse_gpt2_encoder(enc, enc_path), parse_gpt2_merges(read_file(bpe_path), bpe_path),
                       enc_path, bpe_path);
}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  model_.encode(text, &ids);
  return ids;
}

std::string Gpt2Tokenizer::token_bytes(int32_t id) const {
  check_id(id);
  return model_.bytes(id);
}

std::string Gpt2Tokenizer::to_json() const {
  Json enc{Json::Object{}};
  for (const auto& [k, id] : encoder_) enc.set(k, Json(id));
  Json merges{Json::Array{}};
  for (const auto& m : merges_) merges.push_back(Json(m));
  Json j;
  j.set("kind", "gpt2");
  j.set("encoder", std::move(enc));
  j.set("merges", std::move(merges));
  return j.dump();
}

}  // namespace tg

// tokenizer.cpp — shared Tokenizer behaviour and loading a tokenizer from its saved form.
#include "data/tokenizer.h"

#include <limits>
#include <stdexcept>

#include "data/bpe_tokenizer.h"
#include "data/char_tokenizer.h"
#include "data/file_util.h"
#include "data/gpt2_tokenizer.h"
#include "data/json.h"
#include "data/utf8.h"

namespace tg {

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += token_bytes(id);
  return out;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw std::out_of_range("token id " + std::to_string(id) + " is out of range for a " + kind() +
                            " vocabulary of " + std::to_string(vocab_size()));
}

namespace {

std::unique_ptr<Tokenizer> tokenizer_from_parsed(const Json& j, const std::string& where) {
  const std::string& kind = j.at("kind", where).as_string(where + ": key \"kind\"");
  if (kind == "char") {
    std::vector<char32_t> chars;
    const std::string at = where + ": key \"vocab\"";
    for (const Json& s : j.at("vocab", where).as_array(at)) {
      const std::string& c = s.as_string(at);
      char32_t cp;
      if (c.empty() || utf8::decode(c, 0, &cp) != c.size())
        throw std::runtime_error(at + ": entry \"" + c + "\" is not exactly one character");
      // An id is a character's place in this list, which tapegpt writes in code-point order:
      // a list in another order, or with a repeat, would silently give other ids.
      if (!chars.empty() && cp <= chars.back())
        throw std::runtime_error(at + ": entry \"" + c + "\" is out of code-point order or " +
                                 "repeated (ids are positions in a sorted list)");
      chars.push_back(cp);
    }
    const Json* eot = j.find("eot");
    const bool with_eot = eot && eot->as_bool(where + ": key \"eot\"");
    return std::make_unique<CharTokenizer>(std::move(chars), with_eot);
  }
  if (kind == "bpe") {
    std::vector<std::pair<int32_t, int32_t>> merges;
    const std::string at = where + ": key \"merges\"";
    for (const Json& m : j.at("merges", where).as_array(at)) {
      const auto& pair = m.as_array(at);
      if (pair.size() != 2) throw std::runtime_error(at + ": each merge must be [left, right]");
      auto id = [&](const Json& v) {  // range-checked before it narrows to int32
        const int64_t x = v.as_int(at);
        if (x < 0 || x > std::numeric_limits<int32_t>::max())
          throw std::runtime_error(at + ": " + std::to_string(x) + " is not a token id");
        return static_cast<int32_t>(x);
      };
      merges.emplace_back(id(pair[0]), id(pair[1]));
    }
    return std::make_unique<BpeTokenizer>(merges);
  }
  if (kind == "gpt2") {
    auto encoder = parse_gpt2_encoder(j.at("encoder", where), where + ": encoder");
    std::vector<std::string> merges;
    for (const Json& m : j.at("merges", where).as_array(where + ": key \"merges\""))
      merges.push_back(m.as_string(where + ": key \"merges\""));
    return std::make_unique<Gpt2Tokenizer>(std::move(encoder), std::move(merges), where + ": encoder",
                                           where + ": merges");
  }
  throw std::runtime_error(where + ": unknown tokenizer kind \"" + kind + "\" (expected char, bpe or gpt2)");
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_json(const std::string& json, const std::string& where) {
  const Json j = Json::parse(json, where);
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = tokenizer_from_parsed(j, where);
  } catch (const std::invalid_argument& e) {  // a constructor's objection: name the file
    throw std::runtime_error(where + ": " + e.what());
  }
  // vocab_size and eot_id are written for other readers and follow from the rest; a file in
  // which they disagree with it was edited or damaged, and its ids cannot be trusted.
  const Json* vocab_size = j.find("vocab_size");
  if (vocab_size && vocab_size->as_int(where + ": key \"vocab_size\"") != tokenizer->vocab_size())
    throw std::runtime_error(where + ": key \"vocab_size\" says " + vocab_size->dump() + ", but the " +
                             tokenizer->kind() + " tokenizer it describes has " +
                             std::to_string(tokenizer->vocab_size()) + " tokens");
  const Json* eot_id = j.find("eot_id");
  if (eot_id && eot_id->as_int(where + ": key \"eot_id\"") != tokenizer->eot_id())
    throw std::runtime_error(where + ": key \"eot_id\" says " + eot_id->dump() + ", but the " +
                             tokenizer->kind() + " tokenizer it describes has " +
                             std::to_string(tokenizer->eot_id()));
  return tokenizer;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  if (!is_directory(path)) return tokenizer_from_json(read_file(path), path);
  const std::string json = path + "/tokenizer.json";  // a prepared dataset's directory
  if (std::FILE* f = std::fopen(json.c_str(), "rb")) {
    std::fclose(f);
    return tokenizer_from_json(read_file(json), json);
  }
  std::FILE* encoder = std::fopen((path + "/encoder.json").c_str(), "rb");
  if (!encoder)
    throw std::runtime_error(path + ": a directory with neither a tokenizer.json nor GPT-2's "
                             "encoder.json and vocab.bpe");
  std::fclose(encoder);
  return std::make_unique<Gpt2Tokenizer>(Gpt2Tokenizer::from_dir(path));
}

bool same_ids(const Tokenizer& a, const Tokenizer& b) {
  if (a.vocab_size() != b.vocab_size() || a.eot_id() != b.eot_id()) return false;
  for (int64_t id = 0; id < a.vocab_size(); id++)
    if (a.token_bytes(static_cast<int32_t>(id)) != b.token_bytes(static_cast<int32_t>(id))) return false;
  return true;
}

void save_tokenizer(const Tokenizer& tokenizer, const std::string& path) {
  write_file_atomic(path, tokenizer.to_json() + "\n");
}

}  // namespace tg

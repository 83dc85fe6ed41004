// bpe_tokenizer.cpp — see bpe_tokenizer.h.
#include "data/bpe_tokenizer.h"

#include <stdexcept>

#include "data/bpe_trainer.h"
#include "data/json.h"

namespace tg {
namespace {

BytePairModel make_model(const std::vector<std::pair<int32_t, int32_t>>& merges) {
  std::vector<std::string> tokens(256);
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) {
    tokens[b] = std::string(1, static_cast<char>(b));
    byte_ids[b] = b;
  }
  std::vector<BytePairModel::Merge> ms;
  ms.reserve(merges.size());
  // Merges that merge their own results ([97,97], [256,256], [257,257], ...) double a token's
  // length each time: a corrupt file could ask for terabytes. No real vocabulary comes near this.
  constexpr int64_t kMaxVocabBytes = int64_t{1} << 30;
  int64_t vocab_bytes = 256;
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto [a, b] = merges[r];
    const auto id = static_cast<int32_t>(256 + r);
    if (a < 0 || b < 0 || a >= id || b >= id)
      throw std::invalid_argument("bpe merge " + std::to_string(r) + " (" + std::to_string(a) +
                                  ", " + std::to_string(b) + ") refers to an id not yet defined");
    vocab_bytes += static_cast<int64_t>(tokens[a].size() + tokens[b].size());
    if (vocab_bytes > kMaxVocabBytes)
      throw std::invalid_argument("bpe merges build tokens of more than 1 GiB in all (at merge " +
                                  std::to_string(r) + "): not a real vocabulary");
    tokens.push_back(tokens[a] + tokens[b]);
    ms.push_back({a, b, id});
  }
  return BytePairModel(std::move(tokens), byte_ids, std::move(ms));
}

}  // namespace

BpeTokenizer::BpeTokenizer(const std::vector<std::pair<int32_t, int32_t>>& merges)
    : model_(make_model(merges)) {}

BpeTokenizer BpeTokenizer::train(std::string_view text, int64_t vocab_size) {
  BpeWordCounter counter;
  counter.add(text);
  return train(counter.counts(), vocab_size);
}

BpeTokenizer BpeTokenizer::train(const std::unordered_map<std::string, int64_t>& word_counts,
                                 int64_t vocab_size) {
  if (vocab_size < 257)
    throw std::invalid_argument("bpe vocab_size must be at least 257 (256 bytes + <|endoftext|>), got " +
                                std::to_string(vocab_size));
  if (vocab_size > (int64_t{1} << 31) - 1)
    throw std::invalid_argument("bpe vocab_size too large: " + std::to_string(vocab_size));
  return BpeTokenizer(learn_bpe_merges(word_counts, vocab_size - 257));
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  model_.encode(text, &ids);
  return ids;
}

std::string BpeTokenizer::token_bytes(int32_t id) const {
  check_id(id);
  if (id == eot_id()) return "<|endoftext|>";
  return model_.bytes(id);
}

std::string BpeTokenizer::to_json() const {
  Json merges{Json::Array{}};
  for (const auto& m : model_.merges()) merges.push_back(Json(Json::Array{Json(m.left), Json(m.right)}));
  Json j;
  j.set("kind", "bpe");
  j.set("vocab_size", vocab_size());
  j.set("eot_id", eot_id());
  j.set("merges", std::move(merges));
  return j.dump();
}

}  // namespace tg

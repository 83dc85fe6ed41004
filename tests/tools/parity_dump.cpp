// parity_dump — runs one forward/backward of a freshly initialised GPT and writes everything
// the PyTorch parity check compares: weights (checkpoint), the batch, logits, loss and every
// parameter's gradient, as raw little-endian files in --out.
//
//   parity_dump --out DIR [--vocab_size V --block_size T --n_layer L --n_head NH --n_embd C
//               --bias 0|1 --attention P --attn_window W --batch B --seq T --seed S]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "autograd/tape.h"
#include "train/checkpoint.h"

using namespace tg;

template <typename T>
void write_raw(const std::string& path, const T* data, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), sizeof(T) * n);
  if (!out) throw std::runtime_error("cannot write " + path);
}

int main(int argc, char** argv) try {
  std::map<std::string, std::string> a = {
      {"vocab_size", "50"}, {"block_size", "8"}, {"n_layer", "2"}, {"n_head", "2"},
      {"n_embd", "16"}, {"bias", "1"}, {"attention", "dense"}, {"attn_window", "4"},
      {"batch", "2"}, {"seq", "8"}, {"seed", "1"}, {"out", ""}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = std::string(argv[i]).substr(2);
    if (!a.count(key)) throw std::invalid_argument("unknown option --" + key);
    a[key] = argv[i + 1];
  }
  if (a["out"].empty()) throw std::invalid_argument("--out DIR is required");
  GPTConfig c;
  c.vocab_size = std::stol(a["vocab_size"]);
  c.block_size = std::stol(a["block_size"]);
  c.n_layer = std::stol(a["n_layer"]);
  c.n_head = std::stol(a["n_head"]);
  c.n_embd = std::stol(a["n_embd"]);
  c.bias = a["bias"] == "1";
  c.attention = a["attention"];
  c.attn_window = std::stol(a["attn_window"]);
  const int64_t B = std::stol(a["batch"]), T = std::stol(a["seq"]);
  const uint64_t seed = std::stoull(a["seed"]);

  GPT model(c);
  model.init_weights(seed);
  // Perturb the LayerNorm parameters and biases away from 1/0 so their gradients are tested
  // through non-trivial values.
  Rng rng{seed + 100, 0};
  for (auto& [name, t] : model.named_parameters())
    if (name.find("bias") != std::string::npos || name.find("ln_") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); i++) t.data()[i] += 0.1f * (rng.next_uniform() - 0.5f);
  const std::string dir = a["out"];
  save_checkpoint(dir + "/weights.h5", model, Checkpoint{});

  Ids ids{{B, T}, std::vector<int32_t>(B * T)}, targets{{B, T}, std::vector<int32_t>(B * T)};
  for (auto& v : ids.data) v = static_cast<int32_t>(rng.next_bits() % c.vocab_size);
  for (auto& v : targets.data) v = static_cast<int32_t>(rng.next_bits() % c.vocab_size);
  targets.data[1] = -1;  // an ignored target
  GPTOutput out = model.forward(ids, &targets);
  tape().backward(out.loss);

  write_raw(dir + "/ids.bin", ids.data.data(), ids.data.size());
  write_raw(dir + "/targets.bin", targets.data.data(), targets.data.size());
  write_raw(dir + "/logits.bin", out.logits.data(), out.logits.numel());
  write_raw(dir + "/loss.bin", out.loss.data(), 1);
  write_raw(dir + "/grads.bin", model.flat_grads(), model.flat_size());
  std::ofstream names(dir + "/names.txt");
  for (auto& [name, t] : model.named_parameters()) names << name << " " << t.numel() << "\n";
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "parity_dump: error: %s\n", e.what());
  return 1;
}

// prepare.h — corpus files → train.bin, val.bin, tokenizer.json, meta.json (`tapegpt prepare`).
//
// The files are read as one text, in order (each file encoded on its own, so no token spans two
// files). The last val_fraction of the bytes goes to val.bin, starting at a line boundary: the
// first line start (or file start) at or after byte (1 - val_fraction) * total; if there is none,
// the last one before it.
// Memory is bounded whatever the corpus size: text is read and encoded in chunks of a few MB
// (several at a time, one per thread) and ids are written as they come.
//  - char: one streaming pass collects the characters of the whole corpus (train and val), a
//    second encodes.
//  - bpe: merges are trained on the first bpe_sample_bytes of the training part (default 16 MB:
//    a few seconds), then the whole corpus is encoded with them.
//  - gpt2: loads encoder.json and vocab.bpe from gpt2_dir.
//  - an existing tokenizer (a tokenizer.json, or the tokenizer of a checkpoint): new data for a
//    model trained with it, e.g. fine-tuning on other text.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace tg {

struct PrepareOptions {
  std::vector<std::string> inputs;  // corpus files, read in this order
  std::string tokenizer = "char";   // char | bpe | gpt2 | the path of a tokenizer.json
  int64_t vocab_size = 0;           // bpe: target vocabulary size (>= 257); ignored otherwise
  std::string gpt2_dir;             // gpt2: directory with encoder.json and vocab.bpe
  std::string out_dir;              // created if missing
  double val_fraction = 0.1;        // in [0, 1)
  int64_t bpe_sample_bytes = int64_t{16} << 20;
  size_t chunk_bytes = size_t{4} << 20;  // read/encode unit
  std::string tokenizer_json = {};  // a tokenizer's to_json() text (a checkpoint's); then `tokenizer`
                                    // names where it came from
};

struct PrepareResult {
  int64_t vocab_size = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  int64_t train_bytes = 0, val_bytes = 0;
  double seconds = 0;
};

// Throws std::runtime_error naming the file and the problem (missing file, empty corpus, invalid
// UTF-8 for char, bad gpt2 files, no line boundary for the split).
PrepareResult prepare_corpus(const PrepareOptions& options, std::ostream* log = nullptr);

}  // namespace tg
